"""CloudWatch PutMetricData via boto3, packed to the API's limits and retried within a budget.

boto3 is imported only when the first flush happens, so a Lambda that never publishes this
way never pays for it. botocore's own retries are switched off: this sink retries throttling,
5xx and connection errors itself, with exponential backoff and full jitter, and stops when
the per-flush time budget is spent. What it could not deliver goes back to the buffer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared_metrics import limits
from shared_metrics.series import Series, SeriesBatch
from shared_metrics.sinks.base import Discard, MetricSink, PublishResult
from shared_metrics.spec import MetricSpec

# Error codes CloudWatch uses for "slow down": retry with backoff.
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)

# A conservative size model of a datum in the most verbose wire encoding botocore may pick
# (awsquery: "MetricData.member.1000.Values.member.150=<value>&" per value). Over-estimating
# costs a few extra requests; under-estimating would cost a rejected request.
_DATUM_OVERHEAD_BYTES = 200
# "MetricData.member.1000.Dimensions.member.30.Name=&...Value=&" is 101 bytes.
_DIMENSION_OVERHEAD_BYTES = 110
_VALUE_OVERHEAD_BYTES = 90  # one Values entry plus its Counts entry, without the numbers
# Action, Version and a Namespace of up to 255 characters, each percent-encoded (3 bytes).
_REQUEST_OVERHEAD_BYTES = 1000

# Bytes a name or dimension value character may take in the body: awsquery percent-encodes
# all but A-Z a-z 0-9 - _ . ~ (3 bytes); JSON escapes control characters as \u00XX (6 bytes).
_ASCII_CHAR_BYTES = {
    i: "x" * (1 if chr(i).isalnum() or chr(i) in "-_.~" else 6 if i < 0x20 else 3)
    for i in range(128)
}


def _encoded_len(text: str) -> int:
    """An upper bound of the bytes ``text`` takes in a PutMetricData body, in any encoding."""
    if not text.isascii():
        return 12 * len(text)  # a \uXXXX\uXXXX pair in JSON, 4 UTF-8 bytes x 3 in awsquery
    return len(text.translate(_ASCII_CHAR_BYTES))


@dataclass
class _Datum:
    body: dict[str, Any]
    size: int
    leftover: SeriesBatch  # the same data as buffer content, should this datum not arrive
    datapoints: int


@dataclass
class _Request:
    datums: list[_Datum] = field(default_factory=list)
    size: int = _REQUEST_OVERHEAD_BYTES

    @property
    def datapoints(self) -> int:
        return sum(d.datapoints for d in self.datums)


def _retry_kind(exc: Exception) -> str:
    """'retry' (transient), 'reject' (the request itself is bad) or 'later' (not fixable now)."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in THROTTLING_CODES or status == 429 or status >= 500:
            return "retry"
        return "reject"
    if isinstance(exc, HTTPClientError | BotoConnectionError):
        return "retry"
    return "later"


class CloudWatchSink(MetricSink):
    name = "cloudwatch"
    # About what fits one request at the size model above.
    preferred_batch_values = 8_000

    def __init__(
        self,
        *,
        client: Any = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        budget_seconds: float = 3.0,
        base_delay: float = 0.05,
        max_delay: float = 1.0,
        max_request_bytes: int = limits.MAX_REQUEST_BYTES,
        now: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if budget_seconds <= 0:
            raise ValueError(f"budget_seconds must be positive, got {budget_seconds!r}")
        self._client = client
        self.endpoint_url = endpoint_url
        self.region_name = region_name
        self.budget_seconds = budget_seconds
        # An attempt may take connect + read timeout; one is started only while that fits in
        # what is left of the budget, so a flush never outlives its budget.
        self.connect_timeout = budget_seconds / 4
        self.read_timeout = budget_seconds / 4
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_request_bytes = max_request_bytes
        self._now = now
        self._rng = rng
        # What the time budget is measured and waited on (a test gives its own clock).
        self._monotonic = monotonic
        self._sleep = sleep
        self.requests_sent = 0  # PutMetricData calls that CloudWatch accepted

    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.session.Session().client(
                "cloudwatch",
                endpoint_url=self.endpoint_url,
                region_name=self.region_name,
                config=Config(
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=self.connect_timeout,
                    read_timeout=self.read_timeout,
                ),
            )
        return self._client

    def publish(
        self,
        namespace: str,
        batches: Sequence[SeriesBatch],
        properties: Mapping[str, object],
    ) -> PublishResult:
        result = PublishResult()
        requests = self._pack(batches, result)
        if not requests:
            return result
        # The budget covers creating the client too (importing boto3 on the first flush).
        start = self._monotonic()
        try:
            client = self.client()
        except Exception as exc:  # no region, bad endpoint URL, ...: keep the data
            result.failures += 1
            result.failure_message = f"cannot create the CloudWatch client: {exc}"
            result.undelivered.extend(d.leftover for r in requests for d in r.datums)
            return result

        deadline = start + self.budget_seconds
        attempt_cost = self.connect_timeout + self.read_timeout
        for index, request in enumerate(requests):
            attempt = 0
            while True:
                try:
                    client.put_metric_data(
                        Namespace=namespace, MetricData=[d.body for d in request.datums]
                    )
                except Exception as exc:
                    result.failures += 1
                    kind = _retry_kind(exc)
                    result.failure_message = f"PutMetricData failed ({kind}): {exc}"
                    if kind == "reject":
                        result.discarded.append(
                            Discard("rejected_by_cloudwatch", request.datapoints, str(exc))
                        )
                        break
                    delay = self._rng() * min(self.max_delay, self.base_delay * 2**attempt)
                    attempt += 1
                    if kind == "later" or self._monotonic() + delay + attempt_cost > deadline:
                        for rest in requests[index:]:
                            result.undelivered.extend(d.leftover for d in rest.datums)
                        return result
                    self._sleep(delay)
                else:
                    self.requests_sent += 1
                    result.delivered += request.datapoints
                    break
            if index + 1 < len(requests) and self._monotonic() + attempt_cost > deadline:
                for rest in requests[index + 1 :]:
                    result.undelivered.extend(d.leftover for d in rest.datums)
                return result
        return result

    def _pack(self, batches: Sequence[SeriesBatch], result: PublishResult) -> list[_Request]:
        """Merge series per (metric, dimension set, timestamp) and cut them into requests."""
        now = self._now()
        oldest = now - limits.MAX_TIMESTAMP_AGE_SECONDS
        newest = now + limits.MAX_TIMESTAMP_FUTURE_SECONDS
        merged: dict[
            tuple[str, tuple[tuple[str, str], ...], tuple[str, ...], int],
            tuple[MetricSpec, dict[float, int]],
        ] = {}
        for ts, series, values in batches:
            if not oldest <= ts <= newest:
                result.discarded.append(
                    Discard(
                        "timestamp_out_of_range",
                        sum(values.values()) * series.weight,
                        f"metric {series.spec.name!r}: timestamp {ts} is more than 2 weeks old or "
                        f"2 hours ahead; CloudWatch would reject the whole request",
                    )
                )
                continue
            for dimension_set in series.dimension_sets:
                key = (series.spec.name, series.project(dimension_set), dimension_set, ts)
                entry = merged.get(key)
                if entry is None:
                    entry = merged[key] = (series.spec, {})
                counts = entry[1]
                for value, count in values.items():
                    # Keyed by the float sent: ints beyond 2^53 that round to one double
                    # must become one Values entry, not two equal ones.
                    number = float(value)
                    counts[number] = counts.get(number, 0) + count

        requests: list[_Request] = []
        current = _Request()
        for (_name, dimensions, dimension_set, ts), (spec, counts) in merged.items():
            items = list(counts.items())
            for i in range(0, len(items), limits.MAX_VALUES_PER_DATUM):
                datum = self._datum(
                    spec, dimensions, dimension_set, ts, items[i : i + limits.MAX_VALUES_PER_DATUM]
                )
                if current.datums and (
                    len(current.datums) >= limits.MAX_DATUMS_PER_REQUEST
                    or current.size + datum.size > self.max_request_bytes
                ):
                    requests.append(current)
                    current = _Request()
                current.datums.append(datum)
                current.size += datum.size
        if current.datums:
            requests.append(current)
        return requests

    @staticmethod
    def _datum(
        spec: MetricSpec,
        dimensions: tuple[tuple[str, str], ...],
        dimension_set: tuple[str, ...],
        ts: int,
        items: list[tuple[float, int]],
    ) -> _Datum:
        values = [float(v) for v, _ in items]
        counts = [float(c) for _, c in items]
        body: dict[str, Any] = {
            "MetricName": spec.name,
            "Timestamp": datetime.fromtimestamp(ts, tz=UTC),
            "Values": values,
            "Counts": counts,
            "Unit": spec.unit.value,
            "StorageResolution": spec.storage_resolution,
        }
        if dimensions:
            body["Dimensions"] = [{"Name": k, "Value": v} for k, v in dimensions]
        size = (
            _DATUM_OVERHEAD_BYTES
            + _encoded_len(spec.name)
            + sum(
                _DIMENSION_OVERHEAD_BYTES + _encoded_len(k) + _encoded_len(v) for k, v in dimensions
            )
            + sum(
                _VALUE_OVERHEAD_BYTES + len(repr(v)) + len(repr(c))
                for v, c in zip(values, counts, strict=True)
            )
        )
        leftover = SeriesBatch(ts, Series(spec, dimensions, (dimension_set,)), dict(items))
        return _Datum(body, size, leftover, sum(counts_int for _, counts_int in items))
