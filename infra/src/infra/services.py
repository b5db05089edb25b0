"""The inputs of the alarms and the dashboard: each service's spec module, read once.

A spec module holds ``NAMESPACE``, ``SPECS`` (every metric it publishes) and ``ALARMED``
(the specs the alarms watch, on their aggregate series). This module only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from audio_transcription import metrics_spec as audio_transcription_spec
from session_management import metrics_spec as session_management_spec
from shared_metrics import MetricSpec

# The dimension set of a metric's aggregate series: what every alarm watches.
AGGREGATE: tuple[str, ...] = ()


@dataclass(frozen=True)
class MonitoredService:
    """One service namespace and its metrics, as its spec module declares them."""

    label: str  # short name for alarm names and dashboard titles: the namespace's first part
    namespace: str
    specs: tuple[MetricSpec, ...]
    alarmed: tuple[MetricSpec, ...]

    @classmethod
    def from_spec_module(cls, module: ModuleType) -> MonitoredService:
        namespace: str = module.NAMESPACE
        return cls(
            label=namespace.split("/")[0],
            namespace=namespace,
            specs=tuple(module.SPECS),
            alarmed=tuple(module.ALARMED),
        )

    def publishes(self, spec: MetricSpec) -> bool:
        """Whether this service publishes ``spec``'s aggregate series."""
        return any(s is spec for s in self.specs) and AGGREGATE in spec.dimension_sets

    def alarms_on(self, spec: MetricSpec) -> bool:
        """Whether this service marks ``spec`` as alarmed."""
        return any(s is spec for s in self.alarmed)


SESSION_MANAGEMENT = MonitoredService.from_spec_module(session_management_spec)
AUDIO_TRANSCRIPTION = MonitoredService.from_spec_module(audio_transcription_spec)
SERVICES: tuple[MonitoredService, ...] = (SESSION_MANAGEMENT, AUDIO_TRANSCRIPTION)
