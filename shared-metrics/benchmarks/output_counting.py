"""Counting what a contender publishes: EMF written to stdout (captured, counted, not kept),
the datapoints in EMF output, and the PutMetricData requests a boto3 client sends."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from typing import Any


class CountingStream(io.TextIOBase):
    """A text stream that counts what is written and keeps nothing (EMF output is ASCII)."""

    def __init__(self) -> None:
        super().__init__()
        self.chars = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


def emf_datapoints(text: str) -> int:
    """Datapoints in EMF output: every value of a metric counts once per dimension set."""
    total = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        event = json.loads(line)
        for directive in event["_aws"]["CloudWatchMetrics"]:
            sets = len(directive["Dimensions"])
            for metric in directive["Metrics"]:
                values = event[metric["Name"]]
                total += (len(values) if isinstance(values, list) else 1) * sets
    return total


class PutMetricDataCounter:
    """Counts the PutMetricData requests a boto3 client sends, their body bytes and datapoints.

    Body bytes are what goes on the wire: botocore's CBOR encoding, gzipped when >= 10 KiB.
    """

    def __init__(self, client: Any) -> None:
        self.requests = 0
        self.body_bytes = 0
        self.datapoints = 0
        events = client.meta.events
        events.register("before-parameter-build.cloudwatch.PutMetricData", self._on_params)
        events.register("before-send.cloudwatch.PutMetricData", self._on_send)

    def reset(self) -> None:
        self.requests = self.body_bytes = self.datapoints = 0

    def _on_params(self, params: dict[str, Any], **kwargs: Any) -> None:
        for datum in params.get("MetricData", ()):
            if "Counts" in datum:
                self.datapoints += int(sum(datum["Counts"]))
            elif "Values" in datum:
                self.datapoints += len(datum["Values"])
            else:
                self.datapoints += 1

    def _on_send(self, request: Any, **kwargs: Any) -> None:  # must return None
        self.requests += 1
        body = request.body
        self.body_bytes += len(body) if isinstance(body, bytes | bytearray) else 0


@contextlib.contextmanager
def captured_stdout() -> Iterator[CountingStream]:
    stream = CountingStream()
    with contextlib.redirect_stdout(stream):
        yield stream
