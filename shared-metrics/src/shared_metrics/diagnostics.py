"""The library's log messages, on the ``shared_metrics`` logger.

`logging` is imported on the first message, not at import time: most Lambda invocations
never log anything from here, and the import is a measurable share of cold start.
"""

from __future__ import annotations

LOGGER_NAME = "shared_metrics"


def warning(message: str) -> None:
    import logging

    logging.getLogger(LOGGER_NAME).warning(message)


def error(message: str) -> None:
    import logging

    logging.getLogger(LOGGER_NAME).error(message)


def exception(message: str) -> None:
    import logging

    logging.getLogger(LOGGER_NAME).exception(message)
