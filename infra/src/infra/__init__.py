"""The CDK app of the WebSocket transcription service: alarms, dashboard and the stack.

Every metric name, unit and dimension set comes from the services' spec modules
(`session_management.metrics_spec`, `audio_transcription.metrics_spec`); nothing here writes
one again.

| module          | what it holds                                                          |
|-----------------|------------------------------------------------------------------------|
| `services`      | the inputs: each service's namespace, specs and alarmed specs           |
| `alarm_table`   | the alarm set as data: thresholds, windows, severities, runbooks        |
| `alarms`        | `CloudWatchAlarms`: the table turned into alarms, the composite alarm   |
| `dashboard`     | `ServiceDashboard`: a row per area, thresholds drawn on the graphs      |
| `functions`     | the Lambda functions: handlers, routes, zips and what each may access   |
| `stack`         | `WebSocketServiceStack`: API, functions, tables, schedule, topics, IAM  |
| `nag`           | the cdk-nag findings this stack acknowledges, each with its reason      |
| `app`           | the entry point: ``./pants run infra/src/infra/app.py`` synthesizes it  |
"""
