"""The WebSocket route of audio transcription (route key and ``action`` value).

A leaf of vocabulary: the handler, the CDK stack and the local run read it.
"""

SEND_AUDIO = "sendAudio"
