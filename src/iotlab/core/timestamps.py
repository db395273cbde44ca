"""Time in the course: readings carry timestamps as text; jobs count milliseconds since the epoch (UTC).

A reading's ``timestamp`` is RFC 3339 as devices write it: ``2025-11-05T12:00:00Z``, with a numeric
offset instead of ``Z`` (``+00:00``, ``-05:00``: the moment is converted to UTC), with or without a
fraction of a second (up to nine digits; the course keeps milliseconds and drops the rest). One definition
of each conversion, used by the simulator, the validators, the jobs and their references; the SQL job
follows the same rules (``iotlab.jobs.window_aggregate.sql``). Integer arithmetic throughout: a float
would round some milliseconds.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Union

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MINUTE_MS = 60_000

# A moment as the course's code meets it: the contract's text, a datetime (naive means UTC, as the Cassandra
# driver returns a ``timestamp``), or milliseconds since the epoch (as jobs count).
Moment = Union[str, datetime, int]

# Date and time (hours 00-23, minutes and seconds 00-59), an optional fraction, then Z or an offset of at
# most 23:59. Whether the date exists (no February 30) is checked after the pattern.
TIMESTAMP_PATTERN = (r"^([0-9]{4})-([0-9]{2})-([0-9]{2})"
                     r"T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])(?:\.([0-9]{1,9}))?"
                     r"(Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$")
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)


def has_timestamp_shape(text: object) -> bool:
    """True for text written like an RFC 3339 timestamp (above), whether or not that date exists."""
    return isinstance(text, str) and _TIMESTAMP.match(text) is not None


def format_timestamp(moment: datetime, milliseconds: bool = False) -> str:
    """UTC ISO 8601 with a Z: to the second, or to the millisecond for sub-second intervals."""
    moment = moment.astimezone(timezone.utc)
    if milliseconds:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 timestamp (see above) as an aware datetime in UTC; ValueError for text that is no time.

    A date or time that does not exist (February 30, 24:00, a 60th second) is refused, not rolled over, and so
    is a time that its offset moves out of the years 0001 to 9999 in UTC (``9999-12-31T23:00:00-05:00``), which
    a datetime cannot hold.
    """
    match = _TIMESTAMP.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp like 2025-11-05T12:00:00Z or ...+01:00")
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    microseconds = int((match.group(7) or "").ljust(6, "0")[:6])
    zone = match.group(8)
    offset = timedelta(0) if zone == "Z" else (1 if zone[0] == "+" else -1) * timedelta(
        hours=int(zone[1:3]), minutes=int(zone[4:6]))
    local = datetime(year, month, day, hour, minute, second, microseconds, tzinfo=timezone(offset))
    try:
        return local.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"{text!r} is outside the years 0001 to 9999 in UTC") from None


def as_utc(value: Moment) -> datetime:
    """An aware UTC datetime from the contract's text, a datetime (naive means UTC) or epoch milliseconds."""
    if isinstance(value, str):
        return parse_timestamp(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return EPOCH + timedelta(milliseconds=int(value))


def epoch_ms(value: Moment) -> int:
    """Exact milliseconds since the epoch (a fraction of a millisecond is dropped)."""
    return (as_utc(value) - EPOCH) // timedelta(milliseconds=1)


def epoch_micros(value: Moment) -> int:
    """Exact microseconds since the epoch: the unit of a Cassandra write's ``USING TIMESTAMP``."""
    return (as_utc(value) - EPOCH) // timedelta(microseconds=1)


def timestamp_text(value: Moment) -> str:
    """A moment as the contract's text (UTC, ``Z``): to the second, or to the millisecond when it has a
    fraction (how alerts and exports write their times)."""
    moment = as_utc(value)
    return format_timestamp(moment, milliseconds=moment.microsecond != 0)


def format_epoch_ms(milliseconds: int) -> str:
    """Milliseconds since the epoch as the contract's timestamp text (UTC, to the second)."""
    return format_timestamp(EPOCH + timedelta(milliseconds=milliseconds))


def timestamp_ms(text: str) -> int:
    """The contract's timestamp text as milliseconds since the epoch."""
    return epoch_ms(parse_timestamp(text))


def utc_day(moment: datetime) -> date:
    """The UTC calendar day of an aware moment: the time bucket of the course's Cassandra tables."""
    return moment.astimezone(timezone.utc).date()


def utc_days(start: datetime, end: datetime) -> list[date]:
    """Every UTC day that the half-open range [start, end) touches, in order (none when end <= start).

    A range that ends exactly at midnight does not touch the day that begins then.
    """
    if end <= start:
        return []
    last = utc_day(end - timedelta(microseconds=1))
    days, day = [], utc_day(start)
    while day <= last:
        days.append(day)
        day += timedelta(days=1)
    return days
