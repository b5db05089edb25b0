"""The cost model's default inputs when no local run feeds it, each with where it came from.

Measured (2026-12-03): shared-metrics/benchmarks/handler_workload.json (what the real handlers
emit in a healthy session: a speaker and 3 listeners, 5 s of audio in 100 ms chunks, pause and
resume, status queries, one scheduled update, end and disconnects; 65 invocations, captured by
``local_run.handler_workload``) replayed through shared-metrics' EMF sink with one flush per
invocation, as the benchmark's realistic workload does: the EMF bytes each function writes per
invocation and the series each writes. infra may not read the benchmark's files, so the
figures are data here; local-run/tests/local_run_tests/test_run_cost.py replays the
committed workload again and fails when they differ (``local_run.run_cost.measure_workload``
prints them).

Assumed (not measured here): the lines Lambda itself writes per invocation, and what an API
Gateway access log line holds (see `LAMBDA_PLATFORM_LINES`, `ACCESS_LOG_VALUES`).
"""

from __future__ import annotations

from infra.monitoring_series import Series, series

WORKLOAD_SOURCE = (
    "measured 2026-12-03: handler_workload.json (a healthy session, 65 invocations of the real "
    "handlers) replayed through shared-metrics' EMF sink"
)

SM, AT = "SessionManagement/WebSocket", "AudioTranscription/WebSocket"

EMF_BYTES_PER_INVOCATION: dict[str, float] = {
    "connection": 442.64,
    "session_status": 497.75,
    "audio_processor": 602.88,
}

HEALTHY_SERIES: dict[str, frozenset[Series]] = {
    "connection": frozenset(
        {
            series(SM, "ControlMessageLatency"),
            series(SM, "ControlMessagesReceived"),
            series(SM, "ControlMessagesReceived", ActionType="endSession"),
            series(SM, "ControlMessagesReceived", ActionType="pauseBroadcast"),
            series(SM, "ControlMessagesReceived", ActionType="resumeBroadcast"),
            series(SM, "HandlerInvocations"),
            series(SM, "HandlerInvocations", Handler="connection"),
            series(SM, "ListenerNotificationLatency"),
            series(SM, "ListenersNotified"),
        }
    ),
    "session_status": frozenset(
        {
            series(SM, "HandlerInvocations"),
            series(SM, "HandlerInvocations", Handler="session_status"),
            series(SM, "StatusQueriesReceived"),
            series(SM, "StatusQueryLatency"),
        }
    ),
    "audio_processor": frozenset(
        {
            series(AT, "AudioChunkSize"),
            series(AT, "AudioChunksReceived"),
            series(AT, "AudioProcessingLatency"),
            series(AT, "HandlerInvocations"),
            series(AT, "HandlerInvocations", Handler="audio_processor"),
            series(AT, "TranscribeStreamAttempts"),
            series(AT, "TranscribeStreamInitLatency"),
        }
    ),
}

# What the scheduled invocation (the periodic status update, no session in its properties)
# writes: published every minute, whatever the traffic.
SCHEDULED_SERIES: dict[str, frozenset[Series]] = {
    "session_status": frozenset(
        {
            series(SM, "HandlerInvocations"),
            series(SM, "HandlerInvocations", Handler="session_status"),
            series(SM, "PeriodicStatusUpdatesSent"),
        }
    ),
}

# Lambda's own lines per invocation (text log format, what the functions use: their
# LoggingConfig sets no format), as in the Lambda Developer Guide's example output ("Python
# Lambda function logging and monitoring"), without the cold-start Init Duration and the
# X-Ray line (no tracing here). Assumed: the figures' digits vary by a few bytes.
LAMBDA_PLATFORM_LINES = (
    "START RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95 Version: $LATEST",
    "END RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95",
    "REPORT RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95\tDuration: 15.74 ms\t"
    "Billed Duration: 16 ms\tMemory Size: 256 MB\tMax Memory Used: 56 MB\t",
)
LAMBDA_PLATFORM_BYTES = float(sum(len(line) + 1 for line in LAMBDA_PLATFORM_LINES))
LAMBDA_PLATFORM_SOURCE = (
    "assumed: START/END/REPORT as in the Lambda Developer Guide's example "
    f"({LAMBDA_PLATFORM_BYTES:.0f} B per invocation)"
)

# The values an access log line's $context variables take, assumed: API Gateway's request and
# connection ids are 16 characters (e.g. "L0SM9cOFvHcCIhw="), the time is CLF, a healthy
# request has no error messages ("-").
ACCESS_LOG_VALUES: dict[str, str] = {
    "$context.requestId": "L0SM9cOFvHcCIhw=",
    "$context.requestTime": "03/Dec/2026:10:00:00 +0000",
    "$context.connectionId": "L0SM9cOFvHcCIhw=",
    "$context.status": "200",
    "$context.integrationStatus": "200",
    "$context.integrationLatency": "12",
    "$context.error.message": "-",
    "$context.integrationErrorMessage": "-",
}
ACCESS_LOG_SOURCE = (
    "assumed: the template's access log format with 16-character ids and a healthy request's "
    "values"
)
