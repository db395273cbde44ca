"""librdkafka's log lines, through Python's logging: routine ones left out, the rest printed to stderr.

librdkafka (the C library inside confluent-kafka) prints its log straight to stderr unless a client is
given a ``logger``. Some lines are routine and nothing a learner can act on: a producer that asks for its
idempotence id while the brokers' coordinator is still loading (it retries on its own), a client that
finds a partition leader not yet in its metadata cache right after a topic was created, events left
unserved when a client closes. Those go to DEBUG; everything else (a broker down, an authentication
failure) is still printed.
"""

from __future__ import annotations

import logging
import sys

ROUTINE_MESSAGES = (
    "Coordinator load in progress",  # idempotent producer right after the broker started: retried
    "unserved events",  # "Purging N unserved events" when a client closes
    "not found in cache",  # a new topic's partition leader, before the metadata has caught up
)


class RoutineToDebug(logging.Filter):
    """Lowers librdkafka's routine messages to DEBUG, so the handler (INFO and above) leaves them out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if any(routine in record.getMessage() for routine in ROUTINE_MESSAGES):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= logging.INFO


def librdkafka_logger() -> logging.Logger:
    """The logger every course client hands to librdkafka (``{"logger": librdkafka_logger()}``)."""
    logger = logging.getLogger("iotlab.librdkafka")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("librdkafka %(levelname)s: %(message)s"))
        handler.addFilter(RoutineToDebug())
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False  # printed once, by the handler above
    return logger
