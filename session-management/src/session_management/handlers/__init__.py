"""Lambda entry points of session management: one module per function."""
