"""The CloudWatch Synthetics entry point: ``handler(event, context)``.

CloudWatch user guide, "Writing a Python canary script": the script's ``handler(event,
context)`` runs once per run, and a run fails when it raises ("raise Exception("Failed
basicCanary check.")"); it passes when the handler returns. So a failed step raises its
`CanaryFailure` (the run's status reason names the step), and a setting the canary cannot
run with raises `SettingError`. Log lines go through ``aws_synthetics.common.
synthetics_logger`` (CloudWatch user guide, "Library functions available for Python canary
scripts using Selenium": it "writes logs out to both the console and to a local log file",
which Synthetics uploads with the run's artifacts); outside Synthetics, where that library
does not exist, through the standard `logging` module.
"""

from __future__ import annotations

import logging
from typing import Any

from websocket_canary.check import run_check
from websocket_canary.settings import CanarySettings
from websocket_canary.steps import CanaryFailure

try:  # only inside the Synthetics runtime
    from aws_synthetics.common import synthetics_logger  # type: ignore[import-not-found]
except ImportError:
    synthetics_logger = None


def _logger() -> Any:
    return synthetics_logger if synthetics_logger is not None else logging.getLogger(__name__)


def handler(event: object, context: object) -> str:
    """One canary run against ``CANARY_ENDPOINT_URL``; raises when a step fails."""
    logger = _logger()
    settings = CanarySettings.from_env()
    logger.info(f"WebSocket canary: {settings.url} (each step within {settings.step_timeout:g} s)")
    try:
        result = run_check(settings, log=logger.info)
    except CanaryFailure as failure:
        logger.error(str(failure))
        raise
    logger.info(result.summary())
    return result.summary()
