"""What the local run reproduces of AWS, each behaviour with the page and the sentence it
follows and the tests that hold it: the fidelity table of local-run/README.md.

``./pants run local-run/src/local_run/fidelity.py`` prints the table; a test fails when the
README differs, when a row lacks its source or names a test that does not exist, and when
the model publishes an AWS metric no row covers. Where AWS documents nothing, the row says
so (``sentence`` empty) and names the readings the alarms are evaluated under instead.
"""

from __future__ import annotations

import sys

from local_run.fidelity_behaviour import Behaviour
from local_run.websocket_fidelity import WEBSOCKET_ENDPOINT

LAMBDA_METRICS = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics.html"
LAMBDA_CONTEXT = "https://docs.aws.amazon.com/lambda/latest/dg/python-context.html"
APIGW_METRICS = (
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-logging.html"
)
DYNAMODB_METRICS = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html"
)
PUT_METRIC_ALARM = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"
)
SNS_METRICS = "https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html"
SNS_RETRIES = "https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html"
METRIC_MATH = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html"
ALARM_EVALUATION = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html"
)
MISSING_DATA = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html"
)
COMPOSITE = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html"
)
INSIGHTS_SYNTAX = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
    "ContributorInsights-RuleSyntax.html"
)
SYNTHETICS_METRICS = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
    "CloudWatch_Synthetics_Canaries_metrics.html"
)
EMF_SPEC = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
    "CloudWatch_Embedded_Metric_Format_Specification.html"
)
LOGS_FIELDS = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html"
)

T = "local-run/tests/local_run_tests/"
PLATFORM = T + "test_platform_model.py::"
CANARY = T + "test_scenario_canary.py::"
SCENARIO_READINGS = (
    T + "test_scenario.py::test_every_phase_fires_exactly_its_alarms_and_every_alarm_fires"
)
STAGE_READINGS = (
    T + "test_platform_alarms.py::"
    "test_platform_errors_under_every_reading_of_the_api_gateway_metrics"
)


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        "Lambda Invocations: every invocation that ran, failed or not; none for a throttled one",
        LAMBDA_METRICS,
        "Invocations aren't recorded if the invocation request is throttled or otherwise "
        "results in an invocation error.",
        "local_run.simulation.local_functions.LocalFunctions.invoke",
        (PLATFORM + "test_throttled_requests_count_only_in_throttles",),
        ("AWS/Lambda/Invocations",),
    ),
    Behaviour(
        "Lambda Errors: exceptions escaping the handler and timeouts, not a handler's 500",
        LAMBDA_METRICS,
        "Function errors include exceptions that your code throws and exceptions that the "
        "Lambda runtime throws. The runtime returns errors for issues such as timeouts",
        "local_run.simulation.local_functions.LocalFunctions.invoke",
        (PLATFORM + "test_errors_count_function_errors_and_not_a_handlers_500",),
        ("AWS/Lambda/Errors",),
    ),
    Behaviour(
        "Lambda Throttles: requests beyond the reserved concurrency, in Throttles only",
        LAMBDA_METRICS,
        "Throttled requests and other invocation errors don't count as Invocations or Errors.",
        "local_run.simulation.local_functions.LocalFunctions.burst",
        (PLATFORM + "test_throttled_requests_count_only_in_throttles",),
        ("AWS/Lambda/Throttles",),
    ),
    Behaviour(
        "Lambda Duration: the simulated time the handler spent; a timed-out one its timeout",
        LAMBDA_METRICS,
        "The amount of time that your function code spends processing an event.",
        "local_run.simulation.local_functions.LocalFunctions.invoke",
        (PLATFORM + "test_errors_count_function_errors_and_not_a_handlers_500",),
        ("AWS/Lambda/Duration",),
    ),
    Behaviour(
        "Lambda ConcurrentExecutions: the requests of one burst run at once, up to the limit",
        LAMBDA_METRICS,
        "If this number reaches your concurrent executions quota for the Region, or the "
        "reserved concurrency limit that you configured on the function, Lambda throttles "
        "additional invocation requests.",
        "local_run.simulation.local_functions.LocalFunctions.burst",
        (PLATFORM + "test_throttled_requests_count_only_in_throttles",),
        ("AWS/Lambda/ConcurrentExecutions",),
    ),
    Behaviour(
        "The Lambda context: name, memory, request id, remaining time on the simulated timer",
        LAMBDA_CONTEXT,
        "Returns the number of milliseconds left before the execution times out.",
        "local_run.simulation.lambda_context.LocalLambdaContext",
        (PLATFORM + "test_the_handler_gets_a_lambda_context_with_its_remaining_time",),
    ),
    Behaviour(
        "A timeout stops the invocation: what its deadline flush wrote gets out, nothing after",
        LAMBDA_CONTEXT,
        "Returns the number of milliseconds left before the execution times out.",
        "local_run.simulation.platform_metrics.FunctionOutput.killed, "
        "local_run.simulation.sim_clock.SimDeadlineWatch",
        (
            PLATFORM + "test_a_timed_out_invocation_keeps_what_its_deadline_flush_wrote",
            PLATFORM + "test_an_invocation_that_ends_in_time_flushes_once_at_its_end",
            PLATFORM
            + "test_the_sim_clock_runs_a_deadline_at_its_time_inside_the_call_that_crosses_it",
        ),
    ),
    Behaviour(
        "EMF extraction: each datapoint at its event's timestamp; a function's events of one "
        "simulated minute reach CloudWatch together, after that minute",
        EMF_SPEC,
        "A number representing the time stamp used for metrics extracted from the event.",
        "local_run.simulation.platform_metrics.FunctionOutput",
        (
            PLATFORM + "test_each_extracted_datapoint_keeps_its_events_timestamp",
            PLATFORM + "test_invocations_of_one_window_reach_cloudwatch_in_one_publish_at_the_next",
            PLATFORM + "test_extraction_loses_no_datapoint",
        ),
    ),
    Behaviour(
        "API Gateway ConnectCount: each $connect request",
        APIGW_METRICS,
        "The number of messages sent to the $connect route integration.",
        "local_run.simulation.platform_metrics.PlatformMetrics.api_store",
        (PLATFORM + "test_the_stage_metrics_from_recorded_requests",),
        ("AWS/ApiGateway/ConnectCount",),
    ),
    Behaviour(
        "API Gateway MessageCount: each client message and each message posted to a client",
        APIGW_METRICS,
        "The number of messages sent to the WebSocket API, either from or to "
        "the client.",
        "local_run.simulation.platform_metrics.PlatformMetrics.api_store",
        (PLATFORM + "test_the_stage_metrics_from_recorded_requests",),
        ("AWS/ApiGateway/MessageCount",),
    ),
    Behaviour(
        "API Gateway IntegrationError: every 4XX/5XX a handler answers",
        APIGW_METRICS,
        "The number of requests that return a 4XX/5XX response from the "
        "integration.",
        "local_run.simulation.platform_metrics.ApiRequest.error_metric",
        (
            PLATFORM + "test_a_handlers_own_answer_counts_as_the_documentation_says",
            STAGE_READINGS,
        ),
        ("AWS/ApiGateway/IntegrationError",),
    ),
    Behaviour(
        "API Gateway ClientError: API Gateway's own 4XX (none here); a handler's 4XX under the "
        "reading that it was reported to count there",
        APIGW_METRICS,
        "The number of requests that have a 4XX response returned by API "
        "Gateway before the integration is invoked.",
        "local_run.simulation.platform_metrics.ApiGatewayReading",
        (PLATFORM + "test_a_handlers_own_answer_counts_as_the_documentation_says", STAGE_READINGS),
        ("AWS/ApiGateway/ClientError",),
        readings="a handler's 4XX in IntegrationError (the sentence above) or in ClientError",
    ),
    Behaviour(
        "API Gateway ExecutionError and where a throttled invocation, a missing invoke "
        "permission, an exception or a timeout count",
        APIGW_METRICS,
        "",
        "local_run.simulation.platform_metrics.READINGS",
        (PLATFORM + "test_every_reading_counts_every_failed_request_exactly_once",
         STAGE_READINGS, SCENARIO_READINGS),
        ("AWS/ApiGateway/ExecutionError",),
        readings="function errors in IntegrationError or ExecutionError; requests never "
        "invoked in ExecutionError or IntegrationError (8 readings with the ClientError one); "
        "the page only says ExecutionError is 'Errors that occurred when calling the "
        "integration'",
    ),
    Behaviour(
        "API Gateway IntegrationLatency: the invoked request's Duration",
        APIGW_METRICS,
        "The time difference between API Gateway sending the request to "
        "the integration and API Gateway receiving the response from the integration.",
        "local_run.simulation.platform_metrics.PlatformMetrics.api_store",
        (PLATFORM + "test_the_stage_metrics_from_recorded_requests",),
        ("AWS/ApiGateway/IntegrationLatency",),
    ),
    Behaviour(
        "DynamoDB ReadThrottleEvents / WriteThrottleEvents per table of each throttled call",
        DYNAMODB_METRICS,
        "Requests to DynamoDB that exceed the provisioned read capacity "
        "units for a table or a global secondary index.",
        "local_run.simulation.platform_metrics.PlatformMetrics.dynamodb_call",
        (PLATFORM + "test_throttled_calls_count_per_table_and_by_reads_and_writes",),
        ("AWS/DynamoDB/ReadThrottleEvents", "AWS/DynamoDB/WriteThrottleEvents"),
    ),
    Behaviour(
        "DynamoDB SystemErrors per table and operation of each call answered 500",
        DYNAMODB_METRICS,
        "Requests to DynamoDB or Amazon DynamoDB Streams that generate an HTTP "
        "500 status code during the specified time period.",
        "local_run.simulation.platform_metrics.PlatformMetrics.dynamodb_call",
        (PLATFORM + "test_throttled_calls_count_per_table_and_by_reads_and_writes",),
        ("AWS/DynamoDB/SystemErrors",),
    ),
    Behaviour(
        "DynamoDB publishes nothing in a quiet minute, and its alarms ignore missing data",
        PUT_METRIC_ALARM,
        "Alarms that evaluate metrics in the AWS/DynamoDB namespace always ignore missing data "
        "even if you choose a different option for TreatMissingData.",
        "local_run.cloudwatch.evaluator.effective_missing_data",
        (
            T + "test_dynamodb_missing_data.py::test_not_breaching_on_dynamodb_keeps_alarm_"
            "through_missing_periods",
            T + "test_dynamodb_missing_data.py::test_the_same_alarm_elsewhere_follows_its_"
            "treatment",
            T + "test_platform_alarms.py::test_table_throttles_return_to_ok_once_throttling_stops",
        ),
        readings="the user guide says instead that such alarms default to ignoring missing data "
        "and that this can be overridden; the table alarms FILL their series with 0, so no "
        "period is missing and both readings evaluate them alike",
    ),
    Behaviour(
        "SNS NumberOfNotificationsFailed per protocol: each HTTPS attempt (4 by default), an "
        "e-mail once, when SNS gives up (about 6 hours)",
        SNS_METRICS,
        "For Amazon SQS, email, SMS, or mobile push endpoints, the metric increments by 1 when "
        "Amazon SNS stops attempting message deliveries. For HTTP or HTTPS endpoints, the "
        "metric includes every failed delivery attempt, including retries that follow the "
        "initial attempt.",
        "local_run.simulation.notifications.sns_metrics",
        (PLATFORM + "test_failed_notifications_count_per_protocol", SCENARIO_READINGS),
        ("AWS/SNS/NumberOfNotificationsFailed",),
    ),
    Behaviour(
        "SNS's default HTTP/S retries: numRetries 3, minDelayTarget and maxDelayTarget 20 s",
        SNS_RETRIES,
        "The total number of retries, including immediate, pre-backoff, backoff, and "
        "post-backoff retries.",
        "local_run.simulation.notifications.HTTPS_RETRY_DELAYS",
        (PLATFORM + "test_failed_notifications_count_per_protocol",),
    ),
    Behaviour(
        "SNS NumberOfNotificationsDelivered and NumberOfMessagesPublished",
        SNS_METRICS,
        "The number of messages successfully delivered from "
        "your Amazon SNS topics to subscribing endpoints.",
        "local_run.simulation.notifications.sns_metrics",
        (PLATFORM + "test_failed_notifications_count_per_protocol",),
        ("AWS/SNS/NumberOfNotificationsDelivered", "AWS/SNS/NumberOfMessagesPublished"),
    ),
    Behaviour(
        "Alarm and OK actions on every transition, INSUFFICIENT_DATA included",
        PUT_METRIC_ALARM,
        "The actions to execute when this alarm transitions to the OK state from any other "
        "state.",
        "local_run.simulation.notifications.notifications",
        (
            T + "test_notifications.py::test_every_transition_into_alarm_or_ok_notifies_"
            "including_the_first_ok",
            T + "test_notifications.py::test_a_delivery_alarm_hears_of_the_failures_of_"
            "another_alarms_notifications",
        ),
    ),
    Behaviour(
        "Metric math: a missing value is 0 in arithmetic; division by zero drops the point",
        METRIC_MATH,
        "Missing values in a time series are treated as 0. If the value of a data point "
        "causes a function to attempt to divide by zero, the data point is dropped.",
        "local_run.cloudwatch.metric_math.evaluate",
        (
            T + "test_metric_math.py::test_arithmetic_treats_a_missing_value_as_zero",
            T + "test_metric_math.py::test_division_by_zero_drops_the_datapoint",
            T + "test_metric_math.py::test_sum_of_two_series_is_the_sum_with_missing_as_zero",
        ),
    ),
    Behaviour(
        "Metric math: comparisons, AND/OR, IF over missing points",
        METRIC_MATH,
        "When comparison operators are used between two time series, and only one of the time "
        "series has a value for a particular time stamp, the function treats the missing "
        "value in the other time series as 0.",
        "local_run.cloudwatch.metric_math.evaluate",
        (
            T + "test_metric_math.py::test_comparison_and_logical_operators_follow_the_pages_"
            "example",
            T + "test_metric_math.py::test_if_over_three_time_series",
            T + "test_metric_math.py::test_if_with_a_scalar_false_value",
            T + "test_metric_math.py::test_if_without_a_false_value_drops_false_points",
        ),
    ),
    Behaviour(
        "Metric math FILL: the value wherever the series has no datapoint, even none at all",
        METRIC_MATH,
        "Fills the missing values of a time series.",
        "local_run.cloudwatch.metric_math.evaluate",
        (T + "test_metric_math.py::test_fill_fills_every_missing_point_even_of_an_empty_series",),
    ),
    Behaviour(
        "Alarm evaluation: the evaluation range, M of N, missing data treatments",
        MISSING_DATA,
        "The next time this alarm is evaluated, if the data is still missing it will go to "
        "ALARM, as that non-breaching data point will no longer be in the evaluation range.",
        "local_run.cloudwatch.evaluator.evaluate_alarm, local_run.cloudwatch.evaluator.decide",
        (
            T + "test_missing_data_table.py::test_aws_table",
            T + "test_alarm_windows.py::test_second_row_goes_to_alarm_once_its_non_breaching_"
            "point_leaves_the_range",
            T + "test_alarm_windows.py::test_without_missing_data_the_newest_n_periods_decide",
            T + "test_alarm_windows.py::test_breaching_and_not_breaching_fill_the_five_period_"
            "range",
        ),
        readings="the range's length is not documented (AWS's example reads 5 periods for N = "
        "3): N + 2 here",
    ),
    Behaviour(
        "Premature alarm state: a lone breach alarms once it is DatapointsToAlarm periods old",
        MISSING_DATA,
        "alarms are designed to always go into ALARM state when the oldest available "
        "breaching datapoint during the Evaluation Periods number of data points is at least "
        "as old as the value of Datapoints to Alarm, and all other more recent data points "
        "are breaching or missing",
        "local_run.cloudwatch.evaluator.decide",
        (
            T + "test_missing_data_table.py::test_aws_table_as_last_published",
            T + "test_alarm_windows.py::test_a_lone_breach_alarms_once_it_is_datapoints_to_alarm_"
            "periods_old",
        ),
    ),
    Behaviour(
        "M of N: breaches need not be consecutive but fall within the last N periods",
        ALARM_EVALUATION,
        "The breaching data points don't have to be consecutive, but they must all be within "
        "the last number of data points equal to Evaluation Period.",
        "local_run.cloudwatch.evaluator.decide",
        (
            T + "test_alarm_windows.py::test_m_of_n_breaches_must_fall_within_the_last_n_periods",
            T + "test_alarm_windows.py::test_m_of_n_breaches_need_not_be_consecutive",
        ),
    ),
    Behaviour(
        "Evaluated every minute; a period is read once it is complete",
        ALARM_EVALUATION,
        "For any period of one minute or longer, an alarm is evaluated every minute",
        "local_run.cloudwatch.evaluator.evaluate_alarm",
        (
            T + "test_alarm_windows.py::test_a_one_minute_alarm_is_evaluated_at_every_minute_"
            "end_of_the_window",
            T + "test_alarm_windows.py::test_a_one_minute_alarm_reads_a_period_only_once_it_is_"
            "complete",
            T + "test_alarm_windows.py::test_a_five_minute_alarm_is_evaluated_every_minute_over_"
            "a_sliding_window",
        ),
    ),
    Behaviour(
        "Composite alarms: AlarmRule over the children's states (ALARM, OK, "
        "INSUFFICIENT_DATA, AND, OR, NOT, TRUE, FALSE)",
        COMPOSITE,
        'ALARM("alarm-name or alarm-ARN") is TRUE if the named alarm is in ALARM state.',
        "local_run.cloudwatch.alarm_rule, local_run.cloudwatch.evaluator.rule_holds",
        (
            T + "test_composite_alarms.py::test_random_rules_over_random_child_states",
            T + "test_composite_alarms.py::test_and_not",
            T + "test_notifications.py::test_a_composite_notifies_once_however_many_children_"
            "alarm",
        ),
    ),
    Behaviour(
        "Synthetics SuccessPercent per canary run (CanaryName): 100 or 0",
        SYNTHETICS_METRICS,
        "The percentage of the runs of this canary that succeed and find no failures.",
        "local_run.simulation.scenario_canary.ScenarioCanary.run",
        (
            CANARY + "test_a_healthy_run_passes_and_synthetics_publishes_100",
            CANARY + "test_a_refused_upgrade_fails_at_speaker_connect_and_publishes_0",
        ),
        ("CloudWatchSynthetics/SuccessPercent",),
    ),
    Behaviour(
        "Synthetics Duration per canary run: simulated time the run waited for the service",
        SYNTHETICS_METRICS,
        "The duration in milliseconds of the canary run.",
        "local_run.simulation.scenario_canary.ScenarioCanary.run",
        (
            CANARY + "test_a_delay_in_front_of_the_functions_is_in_the_runs_duration_not_in_"
            "lambdas",
        ),
        ("CloudWatchSynthetics/Duration",),
    ),
    Behaviour(
        "Contributor Insights: log groups, keys, filters ANDed, Count or Sum, top N",
        INSIGHTS_SYNTAX,
        "If you specify multiple filters, Contributor Insights evaluates them with a logical "
        "AND operator.",
        "local_run.cloudwatch.contributor_insights",
        (
            T + "test_contributor_insights_rules.py::test_filters_are_anded",
            T + "test_contributor_insights_rules.py::test_the_limit_caps_the_number_of_"
            "contributors",
            T + "test_contributor_insights_rules.py::test_log_group_names_exact_or_prefix",
            T + "test_contributor_insights.py::test_the_documentations_example_rule",
        ),
    ),
)

# The local WebSocket endpoint's rules (`local_run.websocket_fidelity`).
BEHAVIOURS += WEBSOCKET_ENDPOINT


def rows() -> list[str]:
    """The README's table."""
    out = [
        "| behaviour | AWS says (page) | modelled in | held by |",
        "|---|---|---|---|",
    ]
    for b in BEHAVIOURS:
        said = f"\"{b.sentence}\"" if b.sentence else "nothing (see readings)"
        if b.readings:
            said += f"; where AWS is silent: {b.readings}"
        tests = "<br>".join(f"`{t.split('::')[1]}`" for t in b.tests)
        out.append(f"| {b.what} | {said} ([page]({b.url})) | `{b.modelled_in}` | {tests} |")
    return out


MARK_START, MARK_END = "<!-- fidelity -->", "<!-- /fidelity -->"


def generated() -> str:
    return "\n".join([MARK_START, *rows(), MARK_END])


if __name__ == "__main__":
    sys.stdout.write(generated() + "\n")
