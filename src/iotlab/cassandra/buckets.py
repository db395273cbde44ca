"""Device buckets: how the course splits a partition that would otherwise hold the whole fleet.

Two queries read the fleet at once: the alerts of a day (Q3, ``alerts_by_day``) and the latest reading of every
device (Q5, ``latest_reading_by_fleet``). With the day, or the fleet, alone as the partition key, each grows with
the fleet and takes its writes on one replica set. Both add a ``bucket`` to the partition key: a number from 0 to
``DEVICE_BUCKETS - 1`` computed from the device id, so a device always lands in the same bucket, and a reader
asks each bucket in turn (or all of them concurrently).

Why CRC32 and not Python's ``hash``: ``hash`` of a string changes from one process to the next (hash
randomization), and every writer and reader, in every language, must agree on a device's bucket. CRC32 is the
same everywhere (``java.util.zip.CRC32`` gives the same number).
"""

from __future__ import annotations

import zlib

DEVICE_BUCKETS = 8  # notebook 07 does the arithmetic: a 10,000-device fleet stays under 100,000 cells a partition


def device_bucket(device_id: str, buckets: int = DEVICE_BUCKETS) -> int:
    """The bucket of ``device_id``: CRC32 of its UTF-8 bytes, modulo ``buckets``."""
    return zlib.crc32(device_id.encode("utf-8")) % buckets


def all_buckets(buckets: int = DEVICE_BUCKETS) -> list[int]:
    """Every bucket a fleet-wide query must read."""
    return list(range(buckets))
