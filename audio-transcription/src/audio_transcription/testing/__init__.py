"""Helpers for tests and local runs of audio transcription (never imported by a handler)."""
