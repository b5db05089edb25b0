"""The kinds of client message the WebSocket API rate-limits, each with its own limit.

A leaf of vocabulary (the MessageType dimension, the RATE_LIMIT_<KIND>_PER_WINDOW settings):
one WebSocket API carries the messages of every service, so the kinds are the API's, and
each service's handlers name the kind they receive.
"""

CONTROL = "control"
AUDIO = "audio"
STATUS = "status"
