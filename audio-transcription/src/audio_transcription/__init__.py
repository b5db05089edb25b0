"""Audio transcription for the live-broadcast WebSocket API.

The speaker's audio (base64 PCM16 mono 16 kHz chunks on the ``sendAudio`` route) is
validated, rate limited, buffered per session and forwarded to Amazon Transcribe streaming,
with the `AudioTranscription/WebSocket` metrics. What every WebSocket service shares comes
from `websocket_service`; sessions from the session domain around it.
"""
