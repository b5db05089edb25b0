"""Lambda entry points of audio transcription: one module per function."""
