"""Stand-ins for what API Gateway gives a WebSocket handler, for the services' tests and local
runs (never imported by a handler): its events, the Management API, a settable clock, and
counts of what a handler emitted."""
