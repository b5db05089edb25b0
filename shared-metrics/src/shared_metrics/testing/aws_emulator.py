"""moto's server mode on 127.0.0.1: a real HTTP endpoint for CloudWatch, DynamoDB and more.

moto is a test dependency only; nothing on a Lambda's import path imports this module.
Its fidelity is limited (it accepts over-limit requests and matches dimensions loosely), so
tests use it to prove delivery, never to judge CloudWatch's limits.
"""

from __future__ import annotations

import os
import socket
import threading

from shared_metrics.testing.lifecycle import StartStop

# Requests to the emulator are signed like real ones; these keep botocore from looking for
# real credentials on a developer's machine.
EMULATOR_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class AwsEmulator(StartStop):
    """Start with ``with AwsEmulator() as aws:``; ``aws.endpoint_url`` is where it listens.

    moto's server application, served by waitress rather than moto's own ThreadedMotoServer:
    werkzeug's development server closes the connection after every response ("Always close
    the connection. This disables HTTP/1.1 keep-alive connections", werkzeug.serving), so
    each request cost a new TCP connection and a new server thread; waitress keeps the
    clients' connections alive (about 20 % less time per call here). The application, and
    so every answer, is the same.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        import logging

        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from waitress.server import create_server

        # waitress warns when every worker is busy ("Task queue depth is N"): a burst of
        # concurrent requests in a test, not a problem of the emulator's answers.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        app = DomainDispatcherApplication(create_backend_app)
        self._server = create_server(app, host=host, port=port, threads=8, ident="moto")
        self._thread = threading.Thread(target=self._server.run, name="moto", daemon=True)
        self.endpoint_url = ""

    def start(self) -> AwsEmulator:
        for key, value in EMULATOR_ENV.items():
            os.environ.setdefault(key, value)
        self._thread.start()
        host, port = self._server.effective_host, self._server.effective_port
        self.endpoint_url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        server = self._server

        def close_all() -> None:
            for channel in list(server._map.values()):
                channel.close()

        # The loop runs while it has channels (the listening socket, kept-alive clients, its
        # trigger): closing them all from its own thread ends it. Once in a CI run the
        # trigger's pipe was already closed when the emulator stopped ("OSError: [Errno 9] Bad
        # file descriptor" from pull_trigger): then nothing can wake the loop. The trigger
        # leaves the loop's map and counts as closed, so that nothing closes its descriptors
        # again (their numbers may be another file's by now; the server's close would), the
        # rest are closed from here, and the loop ends at its next pass (it polls every second).
        try:
            server.trigger.pull_trigger(close_all)
        except OSError:
            server.trigger.del_channel()
            server.trigger._closed = True
            close_all()
        self._thread.join(timeout=10)
        server.task_dispatcher.shutdown()

    def reset(self) -> None:
        """Forget all state (metrics, tables) between tests, over the emulator's own API."""
        import urllib.request

        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def client(self, service: str) -> object:
        import boto3

        # The region the environment names, as for any client a test builds without one:
        # moto keeps each region's data apart.
        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=os.environ.get("AWS_DEFAULT_REGION", EMULATOR_ENV["AWS_DEFAULT_REGION"]),
        )


def unused_loopback_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: an endpoint that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
