"""CloudWatch and Embedded Metric Format limits, in one place.

Sources: the PutMetricData, MetricDatum and Dimension API references and the CloudWatch
Embedded Metric Format specification. botocore checks none of these client-side, and one
invalid datum fails a whole PutMetricData request, so the library enforces them itself.
"""

from __future__ import annotations

# Names
MAX_NAMESPACE_LENGTH = 255
MAX_METRIC_NAME_LENGTH = 255
MAX_DIMENSION_NAME_LENGTH = 255
MAX_DIMENSION_VALUE_LENGTH = 1024
MAX_DIMENSIONS_PER_METRIC = 30
RESERVED_NAMESPACE_PREFIX = "AWS/"

# Values: CloudWatch rejects NaN, +-Inf and magnitudes beyond 2^360.
MAX_VALUE_MAGNITUDE = 2.0**360

# Timestamps accepted by PutMetricData, relative to the time CloudWatch receives them.
MAX_TIMESTAMP_AGE_SECONDS = 14 * 24 * 3600
MAX_TIMESTAMP_FUTURE_SECONDS = 2 * 3600

# StorageResolution: 1 (high resolution) or 60 (standard).
STORAGE_RESOLUTIONS = (1, 60)

# PutMetricData request
MAX_DATUMS_PER_REQUEST = 1000
MAX_REQUEST_BYTES = 1_000_000
MAX_VALUES_PER_DATUM = 150

# Embedded Metric Format
EMF_MAX_METRICS_PER_DIRECTIVE = 100
EMF_MAX_VALUES_PER_METRIC = 100
EMF_MAX_DIMENSIONS_PER_SET = 30
EMF_MAX_EVENT_BYTES = 256 * 1024

# Lambda: how long before an invocation's deadline (its context's remaining time) the metrics
# are flushed early, so that an invocation that times out still delivers what it recorded.
DEADLINE_FLUSH_MARGIN_MS = 500
