"""The alarm topics: one SNS topic per severity, what may publish to it, who it notifies, and
where SNS logs each delivery.

Each is created in the stack's own scope, so the resources keep the logical ids they have
always had (a new id would replace a deployed topic and drop its confirmed subscriptions).

- A customer managed KMS key encrypts the topics: CloudWatch alarms publish to encrypted
  topics only with a key policy that lets cloudwatch.amazonaws.com use the key, which AWS
  managed keys for SNS cannot grant.
- Each topic refuses non-TLS publishers and lets only this account's alarms publish.
- Delivery status logging of every HTTP/S delivery, failed or not, to the log groups SNS
  names ``sns/<region>/<account>/<topic>`` and ``.../Failure`` (the pager's status code and
  response: what the DeliveryFailures runbooks open first). SNS logs HTTP/S, SQS, Lambda,
  Firehose and mobile deliveries; e-mail deliveries have no such log.
- Subscribers: e-mail addresses and HTTPS endpoints (`infra.subscribers`).
"""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions

from infra.alarm_vocabulary import Severity
from infra.subscribers import Subscribers

_CLOUDWATCH = iam.ServicePrincipal("cloudwatch.amazonaws.com")

# The log actions SNS needs to write delivery status logs (SNS developer guide, "Amazon SNS
# message delivery status").
DELIVERY_STATUS_LOG_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:PutMetricFilter",
    "logs:PutRetentionPolicy",
)


def topics_key(stack: Stack) -> kms.Key:
    key = kms.Key(
        stack,
        "AlarmTopicsKey",
        description="Encrypts the alarm notification topics.",
        enable_key_rotation=True,
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchAlarmsToUseTheKey",
            principals=[_CLOUDWATCH],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
        )
    )
    return key


def delivery_status_role(stack: Stack) -> iam.Role:
    """What SNS writes the topics' delivery status logs with."""
    role = iam.Role(
        stack,
        "AlarmDeliveryStatusRole",
        assumed_by=iam.ServicePrincipal("sns.amazonaws.com"),
        description="SNS writes the alarm topics' delivery status logs.",
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=list(DELIVERY_STATUS_LOG_ACTIONS),
            # SNS names the groups sns/<region>/<account>/<topic>[/Failure].
            resources=[
                f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:"
                f"sns/{Aws.REGION}/{Aws.ACCOUNT_ID}/*"
            ],
        )
    )
    return role


def alarm_topic(stack: Stack, severity: Severity, key: kms.IKey, role: iam.IRole) -> sns.Topic:
    topic = sns.Topic(
        stack,
        f"{severity.value}AlarmsTopic",
        display_name=f"{stack.stack_name} {severity.value.lower()} alarms",
        master_key=key,
        enforce_ssl=True,
        logging_configs=[
            sns.LoggingConfig(
                protocol=sns.LoggingProtocol.HTTP,
                failure_feedback_role=role,
                success_feedback_role=role,
                success_feedback_sample_rate=100,
            )
        ],
    )
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowThisAccountsAlarmsToPublish",
            principals=[_CLOUDWATCH],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={
                "ArnLike": {
                    "aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:"
                    f"{Aws.ACCOUNT_ID}:alarm:*"
                }
            },
        )
    )
    return topic


def subscribe(topic: sns.Topic, who: Subscribers) -> None:
    for address in who.emails:
        topic.add_subscription(subscriptions.EmailSubscription(address))
    for url in who.urls:
        # Raw delivery off: PagerDuty's and Opsgenie's CloudWatch integrations read the SNS
        # envelope (they confirm the subscription themselves).
        topic.add_subscription(subscriptions.UrlSubscription(url))
