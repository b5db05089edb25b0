"""`ServiceDashboard`: one CloudWatch dashboard, a row per area, built from the same specs and
alarm table as the alarms.

The layout is data (`ROWS`): each graph lists what it plots by spec and statistic. A plot of
a spec draws one line per service that publishes it (the common specs get one per namespace).
Where an alarm watches the same source, statistic and period as a graph, the graph shows the
alarm's threshold as a horizontal annotation. The alarm status widget at the top lists the
composite alarm and every alarm. The platform rows at the end draw what each platform alarm
reads (per function, the stage, each table, each alarm topic), one graph per alarm
definition with a line per resource and its threshold; the canary's row comes first, under
the alarm status: whether users can reach the service at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from audio_transcription.metrics_spec import (
    AUDIO_BUFFER_OVERFLOWS,
    AUDIO_CHUNK_SIZE,
    AUDIO_CHUNKS_DROPPED,
    AUDIO_CHUNKS_RECEIVED,
    AUDIO_PROCESSING_LATENCY,
    TRANSCRIBE_STREAM_ATTEMPTS,
    TRANSCRIBE_STREAM_ERRORS,
    TRANSCRIBE_STREAM_INIT_LATENCY,
)
from infra.alarm_construct import CloudWatchAlarms
from infra.alarm_definition import AlarmDefinition, DashboardRow, PlannedAlarm
from infra.alarm_vocabulary import MINUTE, P95, SUM, Severity
from infra.drilldown import QUERIES, RULES
from infra.drilldown_construct import DrillDown
from infra.service_sources import ErrorRate, ServiceMetric, ServiceSource
from infra.services import SERVICES, MonitoredService
from session_management.metrics_spec import (
    CONNECTIONS_CLOSED_FOR_RATE_LIMIT,
    CONTROL_MESSAGE_LATENCY,
    CONTROL_MESSAGES_RECEIVED,
    CONTROL_MESSAGES_REJECTED,
    DYNAMODB_ERRORS,
    LAMBDA_ERRORS,
    LISTENER_NOTIFICATION_FAILURES,
    LISTENER_NOTIFICATION_LATENCY,
    LISTENERS_NOTIFIED,
    PERIODIC_STATUS_UPDATES_SENT,
    RATE_LIMIT_VIOLATIONS,
    STATUS_QUERIES_RECEIVED,
    STATUS_QUERY_LATENCY,
)
from shared_metrics import MetricSpec

P50 = "p50"
P99 = "p99"
FIVE_MINUTES = timedelta(minutes=5)

# CloudWatch dashboards are 24 units wide.
DASHBOARD_WIDTH = 24
GRAPH_HEIGHT = 6

SEVERITY_COLORS = {Severity.CRITICAL: "#d62728", Severity.WARNING: "#ff7f0e"}


@dataclass(frozen=True)
class Plot:
    source: ServiceSource
    statistic: str


@dataclass(frozen=True)
class Graph:
    title: str
    plots: tuple[Plot, ...]
    period: timedelta = MINUTE


@dataclass(frozen=True)
class Row:
    title: str
    graphs: tuple[Graph, ...]


def plots(spec: MetricSpec, *statistics: str) -> tuple[Plot, ...]:
    return tuple(Plot(ServiceMetric(spec), statistic) for statistic in statistics)


ROWS: tuple[Row, ...] = (
    Row(
        "Audio",
        (
            Graph("Audio processing latency (ms)", plots(AUDIO_PROCESSING_LATENCY, P50, P95, P99)),
            Graph(
                "Audio chunks received and dropped",
                plots(AUDIO_CHUNKS_RECEIVED, SUM) + plots(AUDIO_CHUNKS_DROPPED, SUM),
            ),
            Graph(
                "Audio buffer overflows (per 5 minutes)",
                plots(AUDIO_BUFFER_OVERFLOWS, SUM),
                FIVE_MINUTES,
            ),
            Graph("Audio chunk size (bytes)", plots(AUDIO_CHUNK_SIZE, P50, P95)),
        ),
    ),
    Row(
        "Transcribe",
        (
            Graph(
                "Transcribe stream error rate (%)",
                (Plot(ErrorRate(TRANSCRIBE_STREAM_ERRORS, TRANSCRIBE_STREAM_ATTEMPTS), SUM),),
            ),
            Graph(
                "Transcribe streams attempted and failed",
                plots(TRANSCRIBE_STREAM_ATTEMPTS, SUM) + plots(TRANSCRIBE_STREAM_ERRORS, SUM),
            ),
            Graph(
                "Transcribe stream start latency (ms)",
                plots(TRANSCRIBE_STREAM_INIT_LATENCY, P50, P95),
            ),
        ),
    ),
    Row(
        "Control",
        (
            Graph("Control message latency (ms)", plots(CONTROL_MESSAGE_LATENCY, P50, P95)),
            Graph(
                "Control messages received and rejected",
                plots(CONTROL_MESSAGES_RECEIVED, SUM) + plots(CONTROL_MESSAGES_REJECTED, SUM),
            ),
            Graph(
                "Listener notification latency (ms)", plots(LISTENER_NOTIFICATION_LATENCY, P50, P95)
            ),
            Graph("Listeners notified", plots(LISTENERS_NOTIFIED, SUM)),
            Graph(
                "Listener notification failures (per 5 minutes)",
                plots(LISTENER_NOTIFICATION_FAILURES, SUM),
                FIVE_MINUTES,
            ),
        ),
    ),
    Row(
        "Status",
        (
            Graph(
                "Status queries and periodic updates",
                plots(STATUS_QUERIES_RECEIVED, SUM) + plots(PERIODIC_STATUS_UPDATES_SENT, SUM),
            ),
            Graph("Status query latency (ms)", plots(STATUS_QUERY_LATENCY, P50, P95)),
        ),
    ),
    Row(
        "Rate limiting",
        (
            Graph("Rate-limit violations (per minute)", plots(RATE_LIMIT_VIOLATIONS, SUM)),
            Graph(
                "Connections closed for rate limiting (per 5 minutes)",
                plots(CONNECTIONS_CLOSED_FOR_RATE_LIMIT, SUM),
                FIVE_MINUTES,
            ),
        ),
    ),
    Row(
        "Errors",
        (
            Graph("DynamoDB errors (per 5 minutes)", plots(DYNAMODB_ERRORS, SUM), FIVE_MINUTES),
            Graph("Exceptions answered with a 500 (LambdaErrors)", plots(LAMBDA_ERRORS, SUM)),
        ),
    ),
)


# Next to the graphs they explain: each row's Contributor Insights rules (top contributors
# over time) and saved queries (the first check of that row's alarms).
ROW_DRILLDOWN: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Audio": (("DroppedAudioBySession", "SlowAudioBySession"), ("slow-audio-by-session",)),
    "Transcribe": ((), ("transcribe-stream-failures",)),
    "Control": (("NotificationFailuresBySession",), ("listener-notification-failures",)),
    "Rate limiting": (("RateLimitedConnections",), ("rate-limited-connections",)),
    "Errors": ((), ("failed-requests", "dynamodb-errors")),
}
RULE_METRICS = ("UniqueContributors", "MaxContributorValue")


def annotated_alarms(graph: Graph, planned: Sequence[PlannedAlarm]) -> list[PlannedAlarm]:
    """The alarms whose threshold this graph can show: same source, statistic and period."""
    drawn = {(p.source, p.statistic) for p in graph.plots}
    return [
        p
        for p in planned
        if (p.definition.source, p.definition.statistic) in drawn
        and p.window.period == graph.period
    ]


def threshold_annotations(
    graph: Graph, planned: Sequence[PlannedAlarm]
) -> list[cw.HorizontalAnnotation]:
    """One line per distinct (severity, threshold): the common specs' alarms in two
    namespaces share their threshold."""
    seen: dict[tuple[Severity, float], cw.HorizontalAnnotation] = {}
    for p in annotated_alarms(graph, planned):
        d = p.definition
        key = (d.severity, d.threshold)
        if key not in seen:
            seen[key] = cw.HorizontalAnnotation(
                value=d.threshold,
                label=f"{d.severity.value} > {d.threshold:g}{d.unit_suffix}",
                color=SEVERITY_COLORS[d.severity],
            )
    return list(seen.values())


class ServiceDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dashboard_name: str,
        alarms: CloudWatchAlarms,
        drilldown: DrillDown | None = None,
        services: Sequence[MonitoredService] = SERVICES,
        rows: Sequence[Row] = ROWS,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            default_interval=Duration.hours(3),
        )
        self.dashboard.add_widgets(
            cw.AlarmStatusWidget(
                title="Alarms (service degraded = any critical alarm)",
                alarms=alarms.all_alarms(),
                width=DASHBOARD_WIDTH,
                height=4,
                sort_by=cw.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
            )
        )
        self._canary_row(alarms)
        for row in rows:
            width = max(DASHBOARD_WIDTH // len(row.graphs), 4)
            self._title(row.title)
            self.dashboard.add_widgets(
                *(
                    cw.GraphWidget(
                        title=graph.title,
                        left=_lines(graph, services),
                        left_annotations=threshold_annotations(graph, alarms.plan),
                        period=Duration.seconds(int(graph.period.total_seconds())),
                        width=width,
                        height=GRAPH_HEIGHT,
                    )
                    for graph in row.graphs
                )
            )
            if drilldown is not None and row.title in ROW_DRILLDOWN:
                self._drilldown_widgets(drilldown, *ROW_DRILLDOWN[row.title])
        self._platform_rows(alarms)

    def _canary_row(self, alarms: CloudWatchAlarms) -> None:
        """First, under the alarm status: can users reach the service at all (the canary)."""
        planned = [p for p in alarms.plan if p.source.dashboard_row is DashboardRow.REACHABILITY]
        if not planned:
            return
        self._title("Reachability: the canary, a speaker and a listener from outside")
        width = DASHBOARD_WIDTH // len(planned)
        self.dashboard.add_widgets(
            *(_alarm_graph(alarms, [p], p.source.graph_title(p), width) for p in planned)
        )

    def _drilldown_widgets(
        self, drilldown: DrillDown, rule_keys: tuple[str, ...], query_keys: tuple[str, ...]
    ) -> None:
        rules = [r for r in RULES if r.key in rule_keys]
        queries = [q for q in QUERIES if q.key in query_keys]
        width = DASHBOARD_WIDTH // (len(rules) + len(queries))
        widgets: list[cw.IWidget] = [
            cw.GraphWidget(
                title=f"{rule.key} (Contributor Insights): {rule.answers}",
                left=[drilldown.rule_metric(rule, m) for m in RULE_METRICS],
                width=width,
                height=GRAPH_HEIGHT,
            )
            for rule in rules
        ]
        widgets.extend(drilldown.query_widget(q, width, GRAPH_HEIGHT) for q in queries)
        self.dashboard.add_widgets(*widgets)

    def _title(self, title: str) -> None:
        self.dashboard.add_widgets(
            cw.TextWidget(markdown=f"## {title}", width=DASHBOARD_WIDTH, height=1)
        )

    def _platform_rows(self, alarms: CloudWatchAlarms) -> None:
        # One graph per platform alarm definition, a line per resource it is placed on.
        groups: dict[AlarmDefinition, list[PlannedAlarm]] = {}
        for p in alarms.plan:
            if p.source.dashboard_row is DashboardRow.PLATFORM:
                groups.setdefault(p.definition, []).append(p)
        widgets = [
            _alarm_graph(alarms, planned, d.source.graph_title(planned[0]), DASHBOARD_WIDTH // 4)
            for d, planned in groups.items()
        ]
        for start in range(0, len(widgets), 4):
            if start == 0:
                self._title("Platform: Lambda, API Gateway, DynamoDB, alarm delivery")
            self.dashboard.add_widgets(*widgets[start : start + 4])


def _alarm_graph(
    alarms: CloudWatchAlarms, planned: Sequence[PlannedAlarm], title: str, width: int
) -> cw.GraphWidget:
    """What the alarms of one definition read, a line per resource, and their thresholds."""
    d = planned[0].definition
    period = Duration.seconds(planned[0].window.period_seconds)
    return cw.GraphWidget(
        title=title,
        left=[p.source.metric(p, alarms.targets, period, f"_{i}") for i, p in enumerate(planned)],
        left_annotations=[
            cw.HorizontalAnnotation(
                value=t,
                label=f"{d.severity.value} > {t:g}{d.unit_suffix}",
                color=SEVERITY_COLORS[d.severity],
            )
            for t in sorted({p.threshold for p in planned})
        ],
        period=period,
        width=width,
        height=GRAPH_HEIGHT,
    )


def _lines(graph: Graph, services: Sequence[MonitoredService]) -> list[cw.IMetric]:
    period = Duration.seconds(int(graph.period.total_seconds()))
    return [
        plot.source.line(service, plot.statistic, period, f"_{i}")
        for plot in graph.plots
        for i, service in enumerate(services)
        if all(service.publishes(spec) for spec in plot.source.specs)
    ]
