"""Notebook 02 (consumers and offsets): reading a range, offsets for a time, consumer lag, and counting
what a crash did to delivery."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Callable

from confluent_kafka import TopicPartition

from iotlab.course.checks import CheckResult, check_cases, failed, passed, skipped
from iotlab.kafka import admin_client, consumer, producer, recreate_topic

# ----------------------------------------------------------------------------- 02.1 messages_between


def messages_between(topic: str, partition: int, start: int, end: int) -> list[bytes]:
    """Reference for 02.1: the values at offsets start, start+1, ..., end-1 of one partition."""
    reader = consumer(f"range-{uuid.uuid4().hex}", {"enable.auto.commit": False})
    try:
        _, high = reader.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        end = min(end, high)  # the partition may end before `end`
        if end <= start:
            return []
        reader.assign([TopicPartition(topic, partition, start)])
        values: list[bytes] = []
        while len(values) < end - start:
            message = reader.poll(5.0)
            if message is None:
                break  # the partition ends before `end`
            if message.error():
                continue
            if message.offset() >= end:
                break
            values.append(message.value())
        return values
    finally:
        reader.close()


def _fill_topic(name: str, partitions: int, per_partition: int, timestamps_ms=None) -> str:
    """A fresh topic whose partition p holds values b"p:0", b"p:1", ... (optionally with timestamps)."""
    topic = f"check.nb02.{name}.{uuid.uuid4().hex[:8]}"
    recreate_topic(topic, partitions=partitions)
    writer = producer()
    for partition in range(partitions):
        for n in range(per_partition):
            # Partition p's messages are p * 30 s later, so mixing up partitions shows.
            stamp = timestamps_ms[n] + partition * 30_000 if timestamps_ms else 0
            writer.produce(topic, value=f"{partition}:{n}".encode(), partition=partition, timestamp=stamp)
    writer.flush(30)
    return topic


def check_messages_between(function: Callable[[str, int, int, int], list]) -> CheckResult:
    """Check 02.1 on a real topic: several ranges, including empty ones and one past the end."""
    name = "messages_between"
    topic = _fill_topic("range", partitions=3, per_partition=40)
    cases = [(1, 10, 15), (0, 0, 3), (2, 37, 40), (1, 20, 20), (0, 35, 60), (2, 0, 40)]
    try:
        function(topic, 1, 10, 12)
    except NotImplementedError:
        return skipped(name)
    except Exception:
        pass
    return check_cases(
        name, function, messages_between, [(f"partition {p}, offsets {s}..{e}", (topic, p, s, e)) for p, s, e in cases],
        hint="assign([TopicPartition(topic, partition, start)]) then poll until you have end - start values "
             "or the partition ends (poll returns None); an empty range gives []",
        probe_args=(topic, 1, 10, 12),
    )


# ----------------------------------------------------------------------------- 02.2 count_duplicates_and_losses


def count_duplicates_and_losses(sent: list[str], processed: list[str]) -> tuple[int, int]:
    """Reference for 02.2: (extra processings of already-processed messages, sent messages never processed)."""
    counts = Counter(processed)
    duplicates = sum(n - 1 for n in counts.values())
    losses = sum(1 for message in set(sent) if message not in counts)
    return duplicates, losses


DUPLICATE_CASES = [
    ("exactly once", (["a", "b", "c"], ["a", "b", "c"])),
    ("one replayed", (["a", "b", "c"], ["a", "b", "b", "c"])),
    ("one lost", (["a", "b", "c"], ["a", "c"])),
    ("nothing processed", (["a", "b"], [])),
    ("processed three times", (["x"], ["x", "x", "x"])),
    ("both at once, out of order", ([str(n) for n in range(10)], ["3", "1", "1", "0", "9", "3", "3"])),
]


def check_count_duplicates_and_losses(function: Callable[[list, list], tuple]) -> CheckResult:
    return check_cases(
        "count_duplicates_and_losses", lambda s, p: tuple(function(list(s), list(p))), count_duplicates_and_losses,
        DUPLICATE_CASES,
        hint="a message processed n times counts n - 1 duplicates; a sent message never processed is one loss",
        probe_args=(["a"], ["a"]),
    )


# ----------------------------------------------------------------------------- 02.3 offset_at_time


def offset_at_time(topic: str, partition: int, timestamp_ms: int) -> int:
    """Reference for 02.3: the first offset whose timestamp is >= timestamp_ms (-1 if there is none)."""
    reader = consumer(f"times-{uuid.uuid4().hex}")
    try:
        found = reader.offsets_for_times([TopicPartition(topic, partition, timestamp_ms)], timeout=10)
        return found[0].offset if found[0].offset >= 0 else -1
    finally:
        reader.close()


def check_offset_at_time(function: Callable[[str, int, int], int]) -> CheckResult:
    """Check 02.3 on a real topic whose messages carry known timestamps (one a minute)."""
    base = 1_762_344_000_000  # 2025-11-05T12:00:00Z
    stamps = [base + n * 60_000 for n in range(30)]
    topic = _fill_topic("times", partitions=2, per_partition=30, timestamps_ms=stamps)
    cases = [("exactly the 10th message's time", (topic, 0, stamps[10])),
             ("between two messages", (topic, 1, stamps[4] + 1)),
             ("before the first message", (topic, 0, base - 3_600_000)),
             ("after the last message", (topic, 1, stamps[-1] + 60_000)),
             ("the last message", (topic, 0, stamps[-1]))]
    return check_cases(
        "offset_at_time", function, offset_at_time, cases,
        hint="consumer.offsets_for_times([TopicPartition(topic, partition, timestamp_ms)]) answers with the "
             "offset; it is negative when no message is that recent: return -1 then",
        probe_args=(topic, 0, base),
    )


# ----------------------------------------------------------------------------- 02.4 consumer_lag


def consumer_lag(topic: str, group: str) -> dict[int, int]:
    """Reference for 02.4: per partition, how many messages the group has not committed yet."""
    reader = consumer(group, {"enable.auto.commit": False})
    try:
        partitions = reader.list_topics(topic, timeout=10).topics[topic].partitions
        committed = reader.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        lag = {}
        for position in committed:
            low, high = reader.get_watermark_offsets(TopicPartition(topic, position.partition), timeout=10)
            start = position.offset if position.offset >= 0 else low  # nothing committed yet: all of it
            lag[position.partition] = high - start
        return lag
    finally:
        reader.close()


def check_consumer_lag(function: Callable[[str, str], dict]) -> CheckResult:
    """Check 02.4: a group with commits on some partitions, and a group with none, on a topic whose
    partition 2 starts at offset 10 (its first records deleted): an uncommitted partition's lag counts from
    its low watermark, not from 0."""
    name = "consumer_lag"
    topic = _fill_topic("lag", partitions=3, per_partition=25)
    admin = admin_client()  # keep the client alive until its future is done
    for future in admin.delete_records([TopicPartition(topic, 2, 10)]).values():
        future.result(timeout=10)
    group = f"check-lag-{uuid.uuid4().hex[:8]}"
    committer = consumer(group, {"enable.auto.commit": False})
    committer.commit(offsets=[TopicPartition(topic, 0, 25), TopicPartition(topic, 1, 7)], asynchronous=False)
    committer.close()
    fresh_group = f"check-lag-new-{uuid.uuid4().hex[:8]}"
    try:
        function(topic, group)
    except NotImplementedError:
        return skipped(name)
    except Exception:
        pass
    for label, which in (("a group that committed on two partitions", group), ("a group that never committed",
                                                                                fresh_group)):
        expected = consumer_lag(topic, which)
        try:
            actual = function(topic, which)
        except Exception as error:
            return failed(name, f"{label}: raised {type(error).__name__}: {error}")
        if actual != expected:
            return failed(name, f"{label}: expected {expected}, got {actual} (partition 2's records before "
                                "offset 10 are deleted). Hint: lag = high watermark - committed offset; with no "
                                "commit (negative offset) count from the low watermark, not from 0")
    return passed(name, "lag is right for a group with commits and for a brand-new group, on a topic whose "
                        "partition 2 starts at offset 10")
