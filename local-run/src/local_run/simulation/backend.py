"""Where a local run's DynamoDB and CloudWatch calls go: a `Backend`.

By default moto's server in this process (`AwsEmulator`, 127.0.0.1, see `local_backend`);
otherwise any endpoint (LocalStack) or AWS itself (`Backend.remote`). Against anything but
the in-process emulator the run keeps to itself: its tables have run-unique names and are
deleted at the end, and its metrics go to run-unique namespaces
(``LocalRun/<run id>/AudioTranscription/WebSocket``), so that it cannot trip a deployed
stack's alarms or mix with an earlier run's data.
"""

from __future__ import annotations

import argparse
import contextlib
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

from audio_transcription import metrics_spec as audio_spec
from local_run.simulation.local_names import TABLES
from session_management import metrics_spec as session_spec
from session_management.store import SessionStore, TableNames
from shared_metrics.testing.aws_emulator import EMULATOR_ENV, AwsEmulator

REGION = EMULATOR_ENV["AWS_DEFAULT_REGION"]
# The services' own namespaces: what `Backend.namespace` prefixes for a remote run.
SERVICE_NAMESPACES = (session_spec.NAMESPACE, audio_spec.NAMESPACE)


@dataclass(frozen=True)
class Backend:
    """Where the scenario's DynamoDB and CloudWatch calls go."""

    endpoint_url: str | None  # None: AWS's own regional endpoints
    region: str = REGION
    tables: TableNames = TABLES
    namespace_prefix: str = ""  # the services' metrics go to <prefix><namespace>
    emulator: bool = True  # the in-process emulator (faults through a FaultProxy)

    @classmethod
    def remote(cls, endpoint_url: str | None, region: str, run_id: str) -> Backend:
        """LocalStack (``endpoint_url``) or AWS (None): run-unique tables and namespaces."""
        prefix = f"local-run-{run_id}"
        return cls(
            endpoint_url,
            region,
            TableNames(f"{prefix}-sessions", f"{prefix}-connections", f"{prefix}-rate-limits"),
            namespace_prefix=f"LocalRun/{run_id}/",
            emulator=False,
        )

    def namespace(self, service_namespace: str) -> str:
        return self.namespace_prefix + service_namespace

    @property
    def description(self) -> str:
        if self.emulator:
            return f"in-process emulator at {self.endpoint_url}"
        where = self.endpoint_url or f"AWS {self.region}"
        return f"{where} (tables {self.tables.sessions} etc., namespaces {self.namespace_prefix}*)"


@contextlib.contextmanager
def local_backend(endpoint_url: str | None = None) -> Iterator[str]:
    """The emulator in this process (default), or ``endpoint_url`` as is."""
    if endpoint_url:
        yield endpoint_url
        return
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log lines
    emulator = AwsEmulator()
    emulator.start()
    try:
        emulator.reset()  # moto's backends are per process: start clean
        yield emulator.endpoint_url
    finally:
        emulator.stop()


def admin_store(backend: Backend) -> SessionStore:
    """A store on the backend's tables, with botocore's default retries (table setup)."""
    import boto3

    client = boto3.session.Session().client(
        "dynamodb", endpoint_url=backend.endpoint_url, region_name=backend.region
    )
    return SessionStore(client, backend.tables)


def require_reachable(parser: argparse.ArgumentParser, url: str) -> None:
    """Exit 2 with a message unless something answers HTTP at ``url`` (an ``--endpoint-url``
    of the run or the backtest)."""
    try:
        urllib.request.urlopen(url, timeout=3).close()
    except urllib.error.HTTPError:
        return  # it answered
    except (urllib.error.URLError, OSError, ValueError) as exc:
        parser.error(f"endpoint {url} is unreachable: {getattr(exc, 'reason', exc)}")
