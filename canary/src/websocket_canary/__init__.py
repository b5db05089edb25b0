"""The reachability canary of the WebSocket API: a speaker and a listener from outside.

Every alarm of the stack watches something the service itself produces; when nothing reaches
the service (a broken domain or certificate, a deleted stage or route, API Gateway failing
before any integration) there is nothing to watch. This script is what reaches it: a
CloudWatch Synthetics canary (``syn-python-selenium-*`` runtime, Python 3.12) that connects
as speaker and as listener, changes the volume (the listener must hear of it), sends a 100 ms
audio chunk, ends the session (the listener must hear of that too) and disconnects; each step
within its own timeout, a failure naming the step and what went wrong.

| module       | what it holds                                                              |
|--------------|----------------------------------------------------------------------------|
| `settings`   | what a run is pointed at and each step's timeout (environment, arguments)  |
| `steps`      | the steps, in order, and `CanaryFailure` (which step failed, and why)      |
| `protocol`   | the messages the canary sends and what each answer must be                 |
| `connection` | one WebSocket connection with bounded waits (the ``websockets`` sync client)|
| `check`      | `run_check`: the steps against the service, connections always closed      |
| `handler`    | the Synthetics entry point ``handler(event, context)``                     |
| `__main__`   | ``python -m websocket_canary URL``: the same check from a terminal         |

Its sessions are named ``canary-<hex>`` (`websocket_service.
synthetic_traffic`): the handlers mark their EMF events, and the drill-down rules leave them
out. The code runs on Python 3.12 (the Synthetics runtime) as well as on the repository's
3.13, and imports nothing of the services but two leaves of vocabulary (route names, the
synthetic-session prefix).
"""
