"""The WebSocket routes of session management: route keys and ``action`` values.

A leaf of vocabulary: the domain (`sessions`), the handlers, the metric specs (the
`ActionType` dimension), the CDK stack and the local run all read it, and it imports
nothing. `$connect`, `$disconnect` and `$default` are API Gateway's own
(`websocket_service.events`).
"""

# The control actions a speaker sends.
PAUSE = "pauseBroadcast"
RESUME = "resumeBroadcast"
MUTE = "muteBroadcast"
UNMUTE = "unmuteBroadcast"
SET_VOLUME = "setVolume"
END_SESSION = "endSession"
CONTROL_ACTIONS = (PAUSE, RESUME, MUTE, UNMUTE, SET_VOLUME, END_SESSION)

# Status queries (anyone in the session).
GET_SESSION_STATUS = "getSessionStatus"
