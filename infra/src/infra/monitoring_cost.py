"""What the monitoring costs a month: ``./pants run infra/src/infra/monitoring_cost.py --
--sessions-per-day 200 --listeners-per-session 5`` prints the bill, line by line.

It synthesizes the stack (inline placeholder code, no zips needed; alarm subscribers from the
same INFRA_* variables as ``app.py``), reads what it bills from the template
(`infra.monitoring_inventory`), derives the month's invocations from the traffic profile
(`infra.monitoring_traffic`) and prices every line (`infra.monitoring_bill`) at a Region's
list prices (`infra.monitoring_prices`, ``--region``; us-east-1 by default). Without a local
run the series and EMF bytes per invocation are the measured defaults of
`infra.monitoring_measured`; the local run prints the same bill from what it measured itself
(`local_run.run_cost`).

The infra README's cost tables come from `generated` (a test fails while they differ).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from typing import Any

from infra.monitoring_bill import Bill, Measurement, MeasurementError, monthly_bill
from infra.monitoring_inventory import UnpricedResourceError, read_inventory
from infra.monitoring_measured import (
    EMF_BYTES_PER_INVOCATION,
    HEALTHY_SERIES,
    SCHEDULED_SERIES,
    WORKLOAD_SOURCE,
)
from infra.monitoring_prices import (
    DEFAULT_REGION,
    LIST_PRICE,
    READ_ON,
    UnknownRegionError,
    prices_for,
)
from infra.monitoring_series import declared_series
from infra.monitoring_traffic import FIELD_HELP, ProfileError, RoutingError, TrafficProfile

MARK_START, MARK_END = "<!-- monitoring-cost -->", "<!-- /monitoring-cost -->"
README_STACK = "ws-transcription"
# The README's subscribers: one pager endpoint on the critical topic, one mailbox on warnings.
README_SUBSCRIBERS = {
    "critical_urls": ("https://events.pagerduty.com/integration/KEY/enqueue",),
    "warning_emails": ("oncall@example.com",),
}
README_PROFILES: tuple[tuple[str, TrafficProfile], ...] = (
    (
        "A small team: 50 sessions a day of 30 min, 3 listeners, traffic 10 hours a day",
        TrafficProfile(
            sessions_per_day=50,
            session_minutes=30,
            listeners_per_session=3,
            traffic_hours_per_day=10,
        ),
    ),
    (
        "A busy service: 5,000 sessions a day of 60 min, 20 listeners, around the clock",
        TrafficProfile(sessions_per_day=5000, session_minutes=60, listeners_per_session=20),
    ),
)
ERRORS = (UnpricedResourceError, UnknownRegionError, MeasurementError, ProfileError, RoutingError)


def default_measurement() -> Measurement:
    """The measured defaults; failure-only series: every other series the specs declare."""
    seen = {s for group in (HEALTHY_SERIES, SCHEDULED_SERIES) for v in group.values() for s in v}
    return Measurement(
        emf_bytes=EMF_BYTES_PER_INVOCATION,
        healthy=HEALTHY_SERIES,
        always=SCHEDULED_SERIES,
        incident=frozenset(declared_series() - seen),
        source=WORKLOAD_SOURCE,
        incident_source="declared: every other series the spec modules' closed sets allow (an "
        "upper bound: one incident emits a few of them)",
    )


def synthesized(
    stack_name: str = README_STACK, subscribers: Mapping[str, tuple[str, ...]] | None = None
) -> tuple[Mapping[str, Any], dict[str, str]]:
    """The stack's template and function logical id -> label; subscribers from the INFRA_*
    environment unless given (keys as `README_SUBSCRIBERS`)."""
    import infra  # noqa: F401  (points jsii at the lockfile's Node before aws_cdk starts it)

    # isort: split

    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infra.functions import inline_code
    from infra.stack import WebSocketServiceStack
    from infra.subscribers import Subscribers, subscribers_from

    if subscribers is None:
        who = subscribers_from(lambda env, _key: os.environ.get(env))
    else:
        from infra.alarm_vocabulary import Severity

        who = {
            severity: Subscribers(
                emails=subscribers.get(f"{severity.value.lower()}_emails", ()),
                urls=subscribers.get(f"{severity.value.lower()}_urls", ()),
            )
            for severity in Severity
        }
    stack = WebSocketServiceStack(cdk.App(), stack_name, code=inline_code(), subscribers=who)
    labels = {
        str(stack.resolve(f.node.default_child.logical_id)): label  # type: ignore[union-attr]
        for label, f in stack.functions.items()
    }
    return Template.from_stack(stack).to_json(), labels


def bill_for(
    template: Mapping[str, Any],
    labels: Mapping[str, str],
    profile: TrafficProfile,
    measurement: Measurement | None = None,
    region: str = DEFAULT_REGION,
    *,
    free_tier: bool = False,
) -> Bill:
    return monthly_bill(
        read_inventory(template),
        labels,
        profile,
        measurement or default_measurement(),
        prices_for(region),
        free_tier=free_tier,
    )


def _quantity(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def bill_table(bill: Bill) -> list[str]:
    """The bill as a Markdown table, a line per charge, then the total."""
    rows = [
        "| line | quantity | unit price | $ / month | from |",
        "|---|---:|---|---:|---|",
    ]
    for line in bill.lines:
        rows.append(
            f"| {line.item} | {_quantity(line.quantity)} {line.unit} | {line.price} | "
            f"{line.cost:,.2f} | {line.basis} |"
        )
    rows.append(f"| **total** | | | **{bill.total:,.2f}** | |")
    return rows


def report(bill: Bill, profile: TrafficProfile, title: str = "") -> list[str]:
    """What the command prints: the table, the profile, the inputs and what is left out."""
    out = [
        title or "What the monitoring costs a month",
        f"{bill.region} list prices (read {READ_ON}: {LIST_PRICE}; infra/src/infra/"
        "monitoring_prices.py cites each)",
        "",
        *bill_table(bill),
        "",
        "profile: " + "; ".join(profile.describe()),
        *(f"- {note}" for note in bill.notes),
        "not included (not monitoring): " + "; ".join(bill.out_of_scope),
    ]
    return out


def generated(template: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """What the infra README holds between its cost markers."""
    parts = [MARK_START]
    for title, profile in README_PROFILES:
        bill = bill_for(template, labels, profile)
        parts += [f"**{title}**: ${bill.total:,.2f} a month", "", *bill_table(bill), ""]
    parts += [
        "Inputs: " + "; ".join(bill.notes),
        "",
        "Not included (not monitoring): " + "; ".join(bill.out_of_scope) + ".",
        MARK_END,
    ]
    return "\n".join(parts)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="monitoring-cost",
        description="The monitoring's monthly bill (CloudWatch, Logs, SNS) for a traffic profile.",
    )
    defaults = TrafficProfile()
    for f in fields(TrafficProfile):
        default = getattr(defaults, f.name)
        shown = "derived" if default is None else f"{default:g}"
        parser.add_argument(
            "--" + f.name.replace("_", "-"),
            type=float,
            default=default,
            metavar="N",
            help=f"{FIELD_HELP[f.name]} (default: {shown})",
        )
    parser.add_argument("--region", default=DEFAULT_REGION, help="Region of the prices")
    parser.add_argument(
        "--free-tier",
        action="store_true",
        help="apply the account's free tier to this stack (default: not applied)",
    )
    parser.add_argument("--stack-name", default=README_STACK)
    parser.add_argument(
        "--readme",
        action="store_true",
        help="print the infra README's cost section (its two profiles) instead",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        profile = replace(
            TrafficProfile(), **{f.name: getattr(args, f.name) for f in fields(TrafficProfile)}
        )
        prices_for(args.region)  # a bad Region fails before the synth
        print("synthesizing the stack (CDK) ...", file=sys.stderr)
        if args.readme:
            print(generated(*synthesized(README_STACK, README_SUBSCRIBERS)))
            return 0
        template, labels = synthesized(args.stack_name)
        bill = bill_for(template, labels, profile, region=args.region, free_tier=args.free_tier)
    except ERRORS as exc:
        print(f"monitoring-cost: error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report(bill, profile)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
