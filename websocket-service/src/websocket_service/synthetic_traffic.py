"""Synthetic traffic: the sessions of the reachability canary, recognisable by their ids.

A leaf of vocabulary: the canary names its sessions with `SYNTHETIC_SESSION_PREFIX` (a valid
session id, so every handler treats them as any client's), and `ServiceMetrics.annotate` marks
the EMF events of such a session with the log property `SYNTHETIC_PROPERTY`, which the
drill-down rules filter out (infra.drilldown): the canary measures the path users take, it
must not appear among the sessions they look at after a page. It imports nothing, so the
canary script carries it into its zip for the price of one small module.
"""

SYNTHETIC_SESSION_PREFIX = "canary-"
# The EMF log property (never a dimension) on a synthetic session's events, and its value.
SYNTHETIC_PROPERTY = "SyntheticTraffic"
SYNTHETIC_VALUE = "canary"


def is_synthetic(session_id: str) -> bool:
    """Whether ``session_id`` names a session of the canary."""
    return session_id.startswith(SYNTHETIC_SESSION_PREFIX)
