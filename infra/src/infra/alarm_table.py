"""The alarm set, as data: tune thresholds, windows and runbooks here, in one place.

Each `AlarmDefinition` (`alarm_definition`) names the source it watches (a kind of
`service_sources`, `function_sources` or `platform_sources`; a service metric by its spec,
never by a name written again), a statistic, a strict ``>`` threshold, a window, a severity
and a short runbook: what the alarm means and what to check first. The plan
(`alarm_plan.plan_alarms`) places a service-metric alarm in every service whose spec module
marks the spec as alarmed (the common specs thus get one alarm per namespace), and each
platform alarm on every resource of its kind: every function (AWS/Lambda), the WebSocket
stage (AWS/ApiGateway), every table (AWS/DynamoDB), every alarm topic (AWS/SNS), the canary
(CloudWatchSynthetics). Thresholds follow AWS's recommended alarms where AWS has one
(CloudWatch user guide, "Best practice alarm recommendations"); where a window is shorter
than AWS's (Duration 15 of 15, ConcurrentExecutions 10 of 10, SystemErrors 15 of 15), it is
because a live audio session cannot wait that long, and the runbook says what confirms it.

The canary's alarms count runs (a period is one run at its schedule); its success alarm alone
treats missing data as breaching: when the canary stops running, nothing is measured from
outside any more, and an alarm that went OK then would be the very silence the canary exists
to break (CloudWatch user guide, "Configuring how CloudWatch alarms treat missing data": "For
a metric that continually reports data ... you might want to treat missing data points as
breaching, because they may indicate that something is wrong"). While runs arrive, the
setting is not consulted: "If some data points in the evaluation range are missing, but the
number of existing data points retrieved is equal to or more than the alarm's Evaluation
Periods, ... the value you set for how to treat missing data is not needed and is ignored",
so a run landing late in its period does not breach. The same page's 2-of-3 table (5-minute
periods) is this alarm: with missing data breaching, one passing run among four missing
periods is ALARM. A newly created canary is in ALARM until two runs have reported.
"""

from __future__ import annotations

from audio_transcription.metrics_spec import (
    AUDIO_BUFFER_OVERFLOWS,
    AUDIO_PROCESSING_LATENCY,
    TRANSCRIBE_STREAM_ATTEMPTS,
    TRANSCRIBE_STREAM_ERRORS,
)
from infra.alarm_definition import AlarmDefinition
from infra.alarm_vocabulary import (
    AVERAGE,
    MAXIMUM,
    P90,
    P95,
    SUM,
    Limit,
    MissingData,
    Severity,
    m_of_n,
    runs,
    sustained,
    total_in,
)
from infra.function_sources import Heartbeat, LambdaErrorRate, LambdaMetric
from infra.platform_sources import (
    CanaryMetric,
    StageRequestFailures,
    TableSystemErrors,
    TableThrottles,
    TopicDeliveryFailures,
)
from infra.service_sources import ErrorRate, ServiceMetric
from session_management.metrics_spec import (
    CONTROL_MESSAGE_LATENCY,
    LISTENER_NOTIFICATION_FAILURES,
)
from websocket_service.specs import (
    CONNECTIONS_CLOSED_FOR_RATE_LIMIT,
    DYNAMODB_ERRORS,
    RATE_LIMIT_VIOLATIONS,
)

CRITICAL = Severity.CRITICAL
WARNING = Severity.WARNING

# The low-traffic guard of the Lambda error-rate alarms: fewer failed requests than this in a
# minute count as 0 % (so 5 minutes at > 1 % take at least 15 failures).
LAMBDA_MIN_FAILURES_PER_MINUTE = 3

# A healthy canary run is seven round trips of well under a second each (a few seconds with
# cold functions); each step may take 5 s before it fails. Runs averaging over 15 s mean
# several steps take seconds from outside.
CANARY_SLOW_RUN_MS = 15_000

ALARMS: tuple[AlarmDefinition, ...] = (
    # Critical: the service is failing its users now.
    AlarmDefinition(
        key="AudioLatencyP95",
        severity=CRITICAL,
        source=ServiceMetric(AUDIO_PROCESSING_LATENCY),
        statistic=P95,
        threshold=100,
        window=sustained(5),
        meaning="Audio takes too long from arrival to its hand-off to Transcribe: live "
        "captions lag behind the speaker.",
        first_check="the Transcribe row (stream errors, init latency, buffer overflows: a "
        "slow or failing stream makes chunks wait), then the audio_processor function's "
        "Duration and Throttles, then DynamoDB latency of the sessions table (one GetItem "
        "per chunk).",
    ),
    AlarmDefinition(
        key="TranscribeStreamErrorRate",
        severity=CRITICAL,
        source=ErrorRate(TRANSCRIBE_STREAM_ERRORS, TRANSCRIBE_STREAM_ATTEMPTS),
        statistic=SUM,
        threshold=5,
        window=sustained(5),
        meaning="Transcribe streams fail to open or break while streaming: sessions lose "
        "their transcripts.",
        first_check="TranscribeStreamErrors by ErrorType on the dashboard. LimitExceeded: "
        "the concurrent stream quota (Service Quotas). Credentials or BadRequest: the "
        "function's role or a recent deploy. ServiceUnavailable or InternalFailure: the AWS "
        "Health Dashboard for Transcribe in this Region.",
    ),
    AlarmDefinition(
        key="LambdaErrorRate",
        severity=CRITICAL,
        source=LambdaErrorRate(min_failures=LAMBDA_MIN_FAILURES_PER_MINUTE),
        statistic=SUM,
        threshold=1,
        window=sustained(5),
        meaning="Requests to this function fail: crashes, timeouts and out-of-memory "
        "(AWS/Lambda Errors) plus exceptions the handlers answer with a 500 (LambdaErrors). "
        f"A minute with fewer than {LAMBDA_MIN_FAILURES_PER_MINUTE} failed requests counts "
        "as 0 %, so a single failure at low traffic pages nobody.",
        first_check="LambdaErrors by Handler and ErrorType on the Errors row (a 500 from the "
        "guard: the log line 'UnhandledException' has the traceback), then the log group for "
        "'Task timed out' or 'Runtime exited', and whether a deploy just happened (roll back).",
    ),
    AlarmDefinition(
        key="Throttles",
        severity=CRITICAL,
        source=LambdaMetric("Throttles"),
        statistic=SUM,
        threshold=0,
        window=sustained(5),
        meaning="Lambda refuses invocations of this function (concurrency exhausted): API "
        "Gateway answers those clients with an error, audio chunks are lost.",
        first_check="ConcurrentExecutions of the function against its reserved concurrency "
        "and the account's (Service Quotas), a traffic surge on the API row, and Duration "
        "(slower invocations hold concurrency longer).",
    ),
    AlarmDefinition(
        key="PlatformErrors",
        severity=CRITICAL,
        source=StageRequestFailures(),
        statistic=SUM,
        threshold=0,
        window=sustained(5),
        meaning="Requests fail in API Gateway or Lambda, not by a handler's answer: "
        "throttled invocations, a missing invoke permission, crashes, timeouts. API "
        "Gateway's error counts (which include every 4XX/5XX a handler answers) less the "
        "handlers' own error answers: it holds wherever API Gateway counts each failure.",
        first_check="the stage's access log (status, integrationStatus, integrationError by "
        "routeKey), then that function's Throttles, Errors, Duration, and its "
        "AWS::Lambda::Permission after a deploy. Negative: handler metrics arriving late.",
    ),
    AlarmDefinition(
        key="DeliveryFailures",
        severity=CRITICAL,
        source=TopicDeliveryFailures(WARNING),
        statistic=SUM,
        threshold=0,
        window=total_in(5),
        meaning="Warning notifications are not reaching their subscribers: nobody sees "
        "warnings, so this pages through the critical topic instead. SNS counts every failed "
        "HTTPS attempt at once (4 with the default retry policy), an e-mail only when it "
        "gives up, about 6 hours later: this catches HTTPS subscribers in time, e-mail late.",
        first_check="the warning topic's delivery status log (log group sns/<region>/"
        "<account>/<topic>/Failure: statusCode and providerResponse of each HTTPS attempt), "
        "then its subscriptions (confirmed? the endpoint answering 2xx?).",
    ),
    AlarmDefinition(
        key="Unreachable",
        severity=CRITICAL,
        source=CanaryMetric("SuccessPercent", failed_percent=True),
        statistic=AVERAGE,
        threshold=0,
        window=runs(2, 3),
        meaning="The canary, a speaker and a listener from outside, fails: users cannot "
        "connect, speak or listen, while the alarms on what the service produces stay OK "
        "(nothing reaches it). One failed run pages nobody; a canary that stops running "
        "counts as failing (missing data breaches).",
        first_check="the canary's failed runs (Synthetics console; the run log in the "
        "artifacts bucket): the reason names the step. speaker-connect, listener-connect: DNS, "
        "TLS or the upgrade's HTTP status (domain, certificate, stage, $connect); "
        "control-answer, audio-answer, end-answer: that route's integration; "
        "listener-notified, listener-ended: the Management API (ManageConnections); "
        "disconnect: the close handshake. No access-log lines at all: requests do not arrive.",
        missing_data=MissingData.BREACHING,
    ),
    # Warning: degraded, or heading there.
    AlarmDefinition(
        key="AudioLatencyP95",
        severity=WARNING,
        source=ServiceMetric(AUDIO_PROCESSING_LATENCY),
        statistic=P95,
        threshold=75,
        window=sustained(10),
        meaning="Audio processing is slower than usual: captions start to lag (the critical "
        "alarm fires at 100 ms).",
        first_check="the Transcribe row (init latency, stream errors) and the audio_processor "
        "function's Duration; a growing AudioBufferOverflows means Transcribe cannot keep up.",
    ),
    AlarmDefinition(
        key="ControlLatencyP95",
        severity=WARNING,
        source=ServiceMetric(CONTROL_MESSAGE_LATENCY),
        statistic=P95,
        threshold=150,
        window=sustained(10),
        meaning="Control messages (pause, mute, volume, end) take too long to apply and reach "
        "every listener.",
        first_check="ListenerNotificationLatency and ListenerNotificationFailures on the "
        "Control row (a slow post_to_connection fan-out, very large sessions), then DynamoDB "
        "errors and the connection function's Duration.",
    ),
    AlarmDefinition(
        key="RateLimitViolations",
        severity=WARNING,
        source=ServiceMetric(RATE_LIMIT_VIOLATIONS),
        statistic=SUM,
        threshold=100,
        window=total_in(1),
        meaning="Clients send faster than the per-connection limits allow and are refused "
        "(429): abuse, a misbehaving client release, or limits set too low.",
        first_check="RateLimitViolations by MessageType, then the function logs (Logs "
        "Insights: event = 'ConnectionClosedForRateLimit', by connectionId): one client or "
        "many? Raise the RATE_LIMIT_* settings only if normal clients are refused.",
    ),
    AlarmDefinition(
        key="AudioBufferOverflows",
        severity=WARNING,
        source=ServiceMetric(AUDIO_BUFFER_OVERFLOWS),
        statistic=SUM,
        threshold=10,
        window=total_in(5),
        meaning="Audio piles up faster than it reaches Transcribe and the oldest audio is "
        "evicted: transcripts lose audio.",
        first_check="Transcribe stream errors and init latency (a failing or slow stream), "
        "AudioChunksDropped with Reason BufferFull, and AUDIO_BUFFER_MAX_BYTES of the "
        "audio_processor function.",
    ),
    AlarmDefinition(
        key="ListenerNotificationFailures",
        severity=WARNING,
        source=ServiceMetric(LISTENER_NOTIFICATION_FAILURES),
        statistic=SUM,
        threshold=50,
        window=total_in(5),
        meaning="Notifications do not reach listeners: they miss pauses, mutes and the end "
        "of their session.",
        first_check="ListenerNotificationFailures by ErrorType. Gone: listeners who left "
        "without a $disconnect (removed automatically; bursts after network incidents are "
        "benign). LimitExceeded: API Gateway throttling (stage and account limits). "
        "Forbidden: the functions' execute-api:ManageConnections permission.",
    ),
    AlarmDefinition(
        key="DynamoDBErrors",
        severity=WARNING,
        source=ServiceMetric(DYNAMODB_ERRORS),
        statistic=SUM,
        threshold=10,
        window=total_in(5),
        meaning="DynamoDB calls fail after botocore's retries: requests get 503 "
        "StorageUnavailable and rate limits fail open.",
        first_check="DynamoDBErrors by Operation and ErrorCode. ThrottlingException: the "
        "tables' throttling metrics and hot keys. AccessDeniedException: the function's IAM "
        "policy (a recent deploy). ResourceNotFoundException: the table names in the "
        "function's environment.",
    ),
    AlarmDefinition(
        key="ConnectionsClosedForRateLimit",
        severity=WARNING,
        source=ServiceMetric(CONNECTIONS_CLOSED_FOR_RATE_LIMIT),
        statistic=SUM,
        threshold=10,
        window=total_in(5),
        meaning="Connections are being closed for repeated rate-limit violations: abusive "
        "clients, or legitimate ones cut off by limits that are too low.",
        first_check="the function logs (Logs Insights: event = "
        "'ConnectionClosedForRateLimit', by connectionId and messageType): a few clients "
        "suggest abuse; many suggest a client release that sends too fast.",
    ),
    AlarmDefinition(
        key="DurationNearTimeout",
        severity=WARNING,
        source=LambdaMetric("Duration", relative_to=Limit.TIMEOUT_MS),
        statistic=P90,
        threshold=0.8,
        window=sustained(5),
        meaning="Invocations of this function take close to its timeout: a slower "
        "dependency is about to turn them into timeouts (errors that lose their metrics).",
        first_check="which dependency is slow: Transcribe init latency, "
        "ListenerNotificationLatency (post_to_connection), DynamoDB latency of the tables; "
        "then the function's memory (CPU scales with it).",
    ),
    AlarmDefinition(
        key="ConcurrencyNearLimit",
        severity=WARNING,
        source=LambdaMetric("ConcurrentExecutions", relative_to=Limit.CONCURRENCY),
        statistic=MAXIMUM,
        threshold=0.9,
        window=sustained(5),
        meaning="This function runs close to its concurrency limit: throttling is next.",
        first_check="traffic on the API row (a surge, or one client flooding: "
        "RateLimitViolations), Duration (slow invocations hold concurrency), then raise the "
        "function's reserved concurrency (infra.functions) within the account quota.",
    ),
    AlarmDefinition(
        key="Heartbeat",
        severity=WARNING,
        source=Heartbeat(),
        statistic=SUM,
        threshold=0,
        window=sustained(5),
        meaning="The function is invoked but none of its own metrics arrive: every alarm on "
        "its namespace sees no data and stays OK, whatever users get.",
        first_check="the function's log group: are EMF lines ('_aws') still written "
        "(METRICS_SINK, a deploy that dropped the instrumentation), are they valid (a "
        "shared-metrics release), and 'metrics' warnings of the library.",
    ),
    AlarmDefinition(
        key="Throttles",
        severity=WARNING,
        source=TableThrottles(),
        statistic=SUM,
        threshold=0,
        window=m_of_n(3, 5),
        meaning="DynamoDB throttles requests to this table (on-demand table or partition "
        "limits): the services' calls fail after retries (DynamoDBErrors).",
        first_check="DynamoDBErrors by Operation (which calls), hot keys (one session or "
        "connection read far more than others: Contributor Insights for DynamoDB), and the "
        "table's on-demand maximum throughput. AWS/DynamoDB alarms ignore missing data: the "
        "alarm returns to OK at the first minute without throttling.",
    ),
    AlarmDefinition(
        key="SystemErrors",
        severity=WARNING,
        source=TableSystemErrors(),
        statistic=SUM,
        threshold=0,
        window=m_of_n(3, 5),
        meaning="DynamoDB answers requests to this table with 500s (service side): the "
        "services' calls fail after retries.",
        first_check="the AWS Health Dashboard for DynamoDB in this Region, then "
        "DynamoDBErrors by Operation and ErrorCode (InternalServerError).",
    ),
    AlarmDefinition(
        key="RunDuration",
        severity=WARNING,
        source=CanaryMetric("Duration"),
        statistic=AVERAGE,
        threshold=CANARY_SLOW_RUN_MS,
        window=runs(3, 3),
        meaning="The canary's runs are slow: from outside, connecting or the answers to "
        "controls and audio take seconds (cold or throttled functions, a slow dependency), "
        "and users wait as long.",
        first_check="the step times in the canary's run log, then each function's Duration and "
        "cold starts (the invocations-and-duration query) and Throttles.",
    ),
    AlarmDefinition(
        key="DeliveryFailures",
        severity=WARNING,
        source=TopicDeliveryFailures(CRITICAL),
        statistic=SUM,
        threshold=0,
        window=total_in(5),
        meaning="Pages are not reaching their subscribers: critical incidents go unanswered. "
        "Notifies the warning topic. The pager must be an HTTPS subscription (PagerDuty, "
        "Opsgenie): SNS counts each failed HTTPS attempt at once, so this fires within "
        "minutes; a failed e-mail counts only when SNS gives up, about 6 hours later.",
        first_check="the critical topic's delivery status log (log group sns/<region>/"
        "<account>/<topic>/Failure: statusCode and providerResponse per attempt), then the "
        "pager's integration (deleted? key rotated?) and the subscription's confirmation.",
    ),
)
