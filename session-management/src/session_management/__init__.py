"""Session management for the live-broadcast WebSocket API.

`websocket_service` holds what every WebSocket service shares (event parsing, the handler
guard, rate limiting, DynamoDB calls, the Management API, the common metrics); it knows no
service. Around it: the session domain (sessions, connections, control actions, listener
notifications, their DynamoDB store), the `SessionManagement/WebSocket` metrics and the two
Lambda handlers. The audio-transcription service builds on `websocket_service` and on the
session domain where it checks sessions.
"""
