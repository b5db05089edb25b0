"""Session management for the live-broadcast WebSocket API.

Owns the data model (sessions, connections, rate-limit counters in DynamoDB), the WebSocket
plumbing shared by every handler (event parsing, responses, listener notifications, error
handling) and the `SessionManagement/WebSocket` metrics. The audio-transcription service
builds on the same modules.
"""
