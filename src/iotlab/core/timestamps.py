"""Time in the course: readings carry UTC timestamps as text; jobs count milliseconds since the epoch.

One definition of each conversion, used by the simulator, the validators, the jobs and their references.
Integer arithmetic throughout: a float would round some milliseconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MINUTE_MS = 60_000


def format_timestamp(moment: datetime, milliseconds: bool = False) -> str:
    """UTC ISO 8601 with a Z: to the second, or to the millisecond for sub-second intervals."""
    moment = moment.astimezone(timezone.utc)
    if milliseconds:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """The inverse of ``format_timestamp`` (both precisions); raises ValueError for text that is no time."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def epoch_ms(moment: datetime) -> int:
    """Exact milliseconds since the epoch."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def format_epoch_ms(milliseconds: int) -> str:
    """Milliseconds since the epoch as the contract's timestamp text (to the second)."""
    return format_timestamp(EPOCH + timedelta(milliseconds=milliseconds))


def timestamp_ms(text: str) -> int:
    """The contract's timestamp text as milliseconds since the epoch."""
    return epoch_ms(parse_timestamp(text))
