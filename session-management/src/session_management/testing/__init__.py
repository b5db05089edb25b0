"""Local stand-ins used by the services' tests and local runs (never imported by a handler)."""
