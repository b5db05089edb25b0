"""CloudWatch as the local run models it, apart from any scenario: alarms read from a
synthesized template (intrinsics rendered as tokens, composite alarm rules parsed), metric
data in memory with CloudWatch's statistics and metric math, the alarm evaluator with its
missing-data and M-of-N semantics, where metric data comes from (moto's backend,
GetMetricData), and Contributor Insights rules over log lines. It imports no other
first-party package: the simulation and the backtest both read alarms through it."""
