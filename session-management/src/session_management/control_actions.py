"""The control actions a speaker sends: WebSocket route keys and ``action`` values.

A leaf of vocabulary: the domain (`sessions`), the handlers and the metric specs
(`ActionType` dimension) all read it, and it imports nothing.
"""

PAUSE = "pauseBroadcast"
RESUME = "resumeBroadcast"
MUTE = "muteBroadcast"
UNMUTE = "unmuteBroadcast"
SET_VOLUME = "setVolume"
END_SESSION = "endSession"
CONTROL_ACTIONS = (PAUSE, RESUME, MUTE, UNMUTE, SET_VOLUME, END_SESSION)
