"""moto's server mode on 127.0.0.1: a real HTTP endpoint for CloudWatch, DynamoDB and more.

moto is a test dependency only; nothing on a Lambda's import path imports this module.
Its fidelity is limited (it accepts over-limit requests and matches dimensions loosely), so
tests use it to prove delivery, never to judge CloudWatch's limits.
"""

from __future__ import annotations

import os
import socket

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
    """Start with ``with AwsEmulator() as aws:``; ``aws.endpoint_url`` is where it listens."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.endpoint_url = ""

    def start(self) -> AwsEmulator:
        for key, value in EMULATOR_ENV.items():
            os.environ.setdefault(key, value)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

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
