"""Session management for the live-broadcast WebSocket API.

The session domain (sessions, connections, control actions, listener notifications, their
DynamoDB store), the `SessionManagement/WebSocket` metrics and the two Lambda handlers, on
top of what every WebSocket service shares (the `websocket_service` project). The
audio-transcription service uses this package only where it checks sessions.
"""
