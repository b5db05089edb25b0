"""What every WebSocket service on the API shares, knowing no service.

Event parsing and responses (`events`), the error guard handlers run in (`handler_guard`),
per-connection rate limits (`rate_limit`, `message_types`), DynamoDB calls (`dynamodb`), the
API Gateway Management API (`management_api`), the services every handler works with
(`services`), the metrics every service publishes (`specs`, `service_metrics`), settings
(`env_config`) and JSON logs (`structured_logging`). A service adds its domain, its
namespace and its handler names; nothing here imports them (a Pants dependency rule checks).
"""
