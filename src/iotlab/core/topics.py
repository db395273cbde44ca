"""Topic names and the headers of records set aside: one definition, used by every job and reader.

A job reading topic ``T`` writes next to it:

| topic | what it holds |
|---|---|
| ``T.dlq`` | records that break the contract: original key and bytes, why in ``dlq.reason`` |
| ``T.late`` | valid readings that came too late for their window: original bytes, and why |
| ``T.windows`` | 5-minute window aggregates, one JSON object per device and window |
| ``T.alerts`` | alerts, one JSON object each |
| ``T.sink-dlq`` | rows the pipeline's Cassandra writer could not store: the row, and the error in ``dlq.reason`` |

A dead-lettered record keeps its **original bytes** and says why and where from in headers, so nothing is
lost and someone can fix and replay it later:

| header | example |
|---|---|
| ``dlq.reason`` | ``missing_field: humidity`` |
| ``dlq.source.topic`` / ``.partition`` / ``.offset`` | ``iot.readings`` / ``2`` / ``1841`` |
"""

from __future__ import annotations

from dataclasses import dataclass

DLQ_REASON = "dlq.reason"
DLQ_SOURCE_TOPIC = "dlq.source.topic"
DLQ_SOURCE_PARTITION = "dlq.source.partition"
DLQ_SOURCE_OFFSET = "dlq.source.offset"
DLQ_STORE_KIND = "dlq.store.kind"  # in T.sink-dlq: which kind of store row (window, latest, alert)


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


def late_topic(topic: str) -> str:
    return f"{topic}.late"


def windows_topic(topic: str) -> str:
    return f"{topic}.windows"


def alerts_topic(topic: str) -> str:
    return f"{topic}.alerts"


def sink_dead_letter_topic(topic: str) -> str:
    return f"{topic}.sink-dlq"


@dataclass(frozen=True)
class OutputTopics:
    """Where the jobs reading ``source`` write."""

    source: str

    @property
    def dead_letter(self) -> str:
        return dead_letter_topic(self.source)

    @property
    def late(self) -> str:
        return late_topic(self.source)

    @property
    def windows(self) -> str:
        return windows_topic(self.source)

    @property
    def alerts(self) -> str:
        return alerts_topic(self.source)

    @property
    def sink_dead_letter(self) -> str:
        return sink_dead_letter_topic(self.source)


def dead_letter_headers(reason: str, source_topic: str, partition: int, offset: int) -> dict[str, bytes]:
    """The headers of a dead-lettered record: the reason, and the record's position in its source topic."""
    return {
        DLQ_REASON: reason.encode(),
        DLQ_SOURCE_TOPIC: source_topic.encode(),
        DLQ_SOURCE_PARTITION: str(partition).encode(),
        DLQ_SOURCE_OFFSET: str(offset).encode(),
    }
