"""The scenario the local run drives and the AWS around the handlers it simulates: the phases
and their faults, the simulated clients and clock, the three real handlers invoked as Lambda
and API Gateway invoke them, what AWS's own services publish about them (AWS/Lambda,
AWS/ApiGateway, AWS/DynamoDB, AWS/SNS, Synthetics), the alarm topics' notifications, the
local WebSocket endpoint with API Gateway's behaviour, and the canary run against it. It
reads the alarms through `local_run.cloudwatch`."""
