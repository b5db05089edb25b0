"""The reachability canary of the WebSocket API: a speaker and a listener from outside.

Every alarm of the stack watches something the service itself produces; when nothing reaches
the service (a broken domain or certificate, a deleted stage or route, API Gateway failing
before any integration) there is nothing to watch. This script is what reaches it: a
CloudWatch Synthetics canary (``syn-python-selenium-*`` runtime, Python 3.12) that connects
as speaker and as listener, changes the volume (the listener must hear of it), sends a 100 ms
audio chunk, ends the session (the listener must hear of that too) and disconnects; each step
within its own timeout, a failure naming the step and what went wrong.

Its modules are listed, with what each holds, in canary/README.md.

Its sessions are named ``canary-<hex>`` (`websocket_service.synthetic_traffic`): the handlers mark
their EMF events, and the drill-down rules leave them out. The code runs on Python 3.12 (the
Synthetics runtime) as well as on the repository's 3.13, and imports nothing of the services but two
leaves of vocabulary (route names, the synthetic-session prefix).
"""
