"""The system locally, and what the alarms do: the CLI with its report, plot, cost and
backtest on top of the simulation (`local_run.simulation`) and the CloudWatch model
(`local_run.cloudwatch`)."""
