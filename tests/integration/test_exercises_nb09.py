"""Notebook 09's checks that need the lab: the Cassandra writer (against the real node and in a real Flink job)
and the dashboard panel (rendered, run paged on the node). Each passes its reference, skips a stub, and fails
wrong answers."""

from __future__ import annotations

import asyncio
import json

import pytest
from cassandra import InvalidRequest

from iotlab.cassandra import (
    LATEST_READING_TABLE,
    Store,
    alert_values,
    can_succeed_later,
    cassandra_session,
    create_schema,
    latest_reading_values,
    window_values,
)
from iotlab.course.exercises import nb09
from iotlab.jobs.pipeline.cassandra_writer import as_awaitable, refused, written

pytestmark = pytest.mark.integration


# ----------------------------------------------------------------------------- 09.1 the Cassandra writer


class StubWriter(nb09.StoreWriter):
    def open(self, runtime_context):
        raise NotImplementedError("Exercise 09.1")


def test_store_writer_reference_passes_and_stub_is_skipped(lab_settings):
    assert nb09.check_store_writer(nb09.StoreWriter).passed
    result = nb09.check_store_writer(StubWriter)
    assert result.skipped and not result.passed


def test_store_writer_stub_in_async_invoke_is_skipped(lab_settings):
    class HalfDone(nb09.StoreWriter):
        async def async_invoke(self, value):
            raise NotImplementedError("Exercise 09.1")

    assert nb09.check_store_writer(HalfDone).skipped


def statements(store: Store, value) -> list:
    row = json.loads(value.row)
    if value.kind == "window":
        return [store.insert_window.bind(window_values(row))]
    if value.kind == "latest":
        return [store.upsert_latest.bind(latest_reading_values(row))]
    values = alert_values(row)
    return [store.insert_alert_by_day.bind(values), store.insert_alert_by_device.bind(values)]


async def send_with_retries(session, bound: list) -> None:
    """The reference's sending: all at once, awaited; what can succeed later retried with back-off, then raised."""
    for attempt in range(1, nb09.ATTEMPTS + 1):
        try:
            await asyncio.gather(*(as_awaitable(session.execute_async(statement)) for statement in bound))
            return
        except Exception as error:
            if not can_succeed_later(error) or attempt == nb09.ATTEMPTS:
                raise
            await asyncio.sleep(0.1 * 2 ** (attempt - 1))


class OneAlertTable(nb09.StoreWriter):
    """An alert written to alerts_by_device_day only."""

    async def async_invoke(self, value):
        if value.kind != "alert":
            return await super().async_invoke(value)
        only_by_device = self.store.insert_alert_by_device.bind(alert_values(json.loads(value.row)))
        await send_with_retries(self.session, [only_by_device])
        return [written(value)]


class ArrivalWins(nb09.StoreWriter):
    """The latest reading written without USING TIMESTAMP: the write that arrives last wins."""

    def open(self, runtime_context):
        super().open(runtime_context)
        self.plain_latest = self.session.prepare(
            f"INSERT INTO {self.keyspace}.{LATEST_READING_TABLE} (fleet, bucket, device_id, reading_at, "
            "temperature, humidity, status) VALUES (?, ?, ?, ?, ?, ?, ?)")

    async def async_invoke(self, value):
        if value.kind != "latest":
            return await super().async_invoke(value)
        values = latest_reading_values(json.loads(value.row))[:7]
        await as_awaitable(self.session.execute_async(self.plain_latest, values))
        return [written(value)]


class Swallows(nb09.StoreWriter):
    """Retries, then gives up quietly: the row is lost without a trace."""

    async def async_invoke(self, value):
        try:
            return await super().async_invoke(value)
        except Exception:
            return [written(value)]


class SetsAsideTheOutage(nb09.StoreWriter):
    """Retries, then sends a row that would have succeeded later to the dead-letter topic instead of raising."""

    async def async_invoke(self, value):
        try:
            return await super().async_invoke(value)
        except Exception as error:
            return [refused(value, error)]


class SetsAsideEveryFailure(nb09.StoreWriter):
    """Any failure, even one that can succeed later, goes to the dead-letter topic at once."""

    async def async_invoke(self, value):
        try:
            await asyncio.gather(*(as_awaitable(self.session.execute_async(statement))
                                   for statement in statements(self.store, value)))
        except Exception as error:
            return [refused(value, error)]
        return [written(value)]


class NoRetry(nb09.StoreWriter):
    """Raises at the first failed write."""

    async def async_invoke(self, value):
        try:
            bound = statements(self.store, value)
            await asyncio.gather(*(as_awaitable(self.session.execute_async(statement)) for statement in bound))
        except InvalidRequest as error:
            return [refused(value, error)]
        return [written(value)]


class RetriesEverything(nb09.StoreWriter):
    """Retries every failure, the refused row too, then sets it aside."""

    async def async_invoke(self, value):
        for attempt in range(1, nb09.ATTEMPTS + 1):
            try:
                await send_with_retries(self.session, statements(self.store, value))
                return [written(value)]
            except Exception as error:
                if attempt == nb09.ATTEMPTS:
                    return [refused(value, error)] if isinstance(error, InvalidRequest) else [written(value)]
                await asyncio.sleep(0.05)


class RaisesTheRefusedRow(nb09.StoreWriter):
    """A row Cassandra refuses fails the job: the restarted job meets it again, forever."""

    async def async_invoke(self, value):
        await send_with_retries(self.session, statements(self.store, value))
        return [written(value)]


class RetriesForever(nb09.StoreWriter):
    async def async_invoke(self, value):
        while True:
            try:
                await asyncio.gather(*(as_awaitable(self.session.execute_async(statement))
                                       for statement in statements(self.store, value)))
                return [written(value)]
            except InvalidRequest as error:
                return [refused(value, error)]
            except Exception:
                await asyncio.sleep(0.1)


class FireAndForget(nb09.StoreWriter):
    """Sends the writes and returns without waiting for them: errors are never seen."""

    async def async_invoke(self, value):
        for statement in statements(self.store, value):
            self.session.execute_async(statement)
        return [written(value)]


class BlocksOnTheFuture(nb09.StoreWriter):
    """execute_async, then the future's blocking .result() inside async_invoke: the event loop stops at each write."""

    async def async_invoke(self, value):
        for attempt in range(1, nb09.ATTEMPTS + 1):
            try:
                for statement in statements(self.store, value):
                    self.session.execute_async(statement).result()
                return [written(value)]
            except InvalidRequest as error:
                return [refused(value, error)]
            except Exception:
                if attempt == nb09.ATTEMPTS:
                    raise
                await asyncio.sleep(0.1 * 2 ** (attempt - 1))


class SessionPerRow(nb09.StoreWriter):
    """Connects (and prepares) for every row: right results, many sessions."""

    async def async_invoke(self, value):
        session = cassandra_session()
        try:
            return await nb09.StoreWriter.async_invoke(_Borrowed(session, Store(session, self.keyspace)), value)
        finally:
            session.cluster.shutdown()


class PreparesPerRow(nb09.StoreWriter):
    async def async_invoke(self, value):
        return await nb09.StoreWriter.async_invoke(_Borrowed(self.session, Store(self.session, self.keyspace)), value)


class _Borrowed:
    """The reference's async_invoke run with another session and store."""

    def __init__(self, session, store):
        self.session, self.store = session, store


class Synchronous(nb09.StoreWriter):
    """session.execute inside async_invoke: the event loop blocks on every write."""

    async def async_invoke(self, value):
        for attempt in range(3):
            try:
                for statement in statements(self.store, value):
                    self.session.execute(statement)
                return [written(value)]
            except InvalidRequest as error:
                return [refused(value, error)]
            except Exception:
                if attempt == 2:
                    raise
                await asyncio.sleep(0.1)


class ReturnsTheKind(nb09.StoreWriter):
    """The old interface: the row's kind instead of its outcome."""

    async def async_invoke(self, value):
        await super().async_invoke(value)
        return [value.kind]


class SessionInInit(nb09.StoreWriter):
    """Connects in __init__, in the process that builds the job: a session cannot be pickled to Flink's workers."""

    def __init__(self, keyspace):
        super().__init__(keyspace)
        self.session = cassandra_session()
        self.store = Store(self.session, keyspace)

    def open(self, runtime_context):
        pass


WRONG_WRITERS = {
    OneAlertTable: "BOTH alert tables", ArrivalWins: "USING TIMESTAMP", Swallows: "swallowed",
    SetsAsideTheOutage: "set aside as refused", SetsAsideEveryFailure: "not sent again",
    NoRetry: "can succeed later", RetriesEverything: "retry only what",
    RaisesTheRefusedRow: "forever", RetriesForever: "still being retried", FireAndForget: "await every write",
    BlocksOnTheFuture: ".result()", SessionPerRow: "new session", PreparesPerRow: "prepared",
    Synchronous: "synchronous", ReturnsTheKind: "return [written(value)]", SessionInInit: "in a Flink job",
}


@pytest.mark.parametrize("wrong,words", list(WRONG_WRITERS.items()), ids=lambda v: getattr(v, "__name__", "words"))
def test_store_writer_wrong_answers_fail_and_say_what_is_wrong(lab_settings, wrong, words):
    result = nb09.check_store_writer(wrong)
    assert not result.passed and not result.skipped
    assert words in result.message, result.message


# ----------------------------------------------------------------------------- 09.2 the dashboard panel

OTHER_KEYSPACE = "iotlab_check_nb09_panel"


@pytest.fixture(scope="module")
def other_keyspace(lab_settings) -> str:
    """A second keyspace with alerts of its own, standing for the pipeline's: the panel must use ${keyspace}."""
    session = cassandra_session(lab_settings)
    try:
        create_schema(session, OTHER_KEYSPACE)
        store = Store(session, OTHER_KEYSPACE)
        alerts = [{"device_id": device, "kind": "offline", "alert_at": at, "start": at, "end": at, "score": 10.0,
                   "details": {"gap_minutes": 10}}
                  for device, at in [("device-07", "2025-11-05T22:30:00Z"), ("device-07", "2025-11-06T01:00:00Z"),
                                     ("device-08", "2025-11-06T00:00:00Z"), ("device-08", "2025-11-06T03:00:00Z")]]
        store.write_alerts(alerts).raise_for_failures()
    finally:
        session.cluster.shutdown()
    return OTHER_KEYSPACE


def test_panel_reference_passes_and_stub_is_skipped(other_keyspace):
    assert nb09.check_device_alerts_panel(nb09.device_alerts_panel, pipeline_keyspace=other_keyspace).passed
    assert nb09.check_device_alerts_panel(lambda: (_ for _ in ()).throw(NotImplementedError())).skipped


def reference(old: str, new: str):
    return lambda: nb09.device_alerts_panel().replace(old, new)


DAYS = nb09.device_alerts_panel().split("day IN (")[1].split(")) AND")[0] + ")"
WRONG_PANELS = {
    "allow filtering": lambda: ("SELECT device_id, kind, alert_at, started_at, ended_at FROM "
                                "${keyspace}.alerts_by_device_day WHERE device_id = '${device}' AND alert_at >= "
                                "$__timeFrom AND alert_at < $__timeTo ALLOW FILTERING"),
    "first day only": reference(f"day IN ({DAYS})", "day = todate($__timeFrom)"),
    "order by across the day buckets": lambda: nb09.device_alerts_panel() + " ORDER BY alert_at DESC",
    "end included": reference("alert_at < $__timeTo", "alert_at <= $__timeTo"),
    "start excluded": reference("alert_at >= $__timeFrom", "alert_at > $__timeFrom"),
    "keyspace written out": reference("${keyspace}", nb09.CHECK_KEYSPACE),
    "device written out": reference("${device}", "device-02"),
    "the fleet's table": lambda: ("SELECT device_id, kind, alert_at, started_at, ended_at FROM "
                                  f"${{keyspace}}.alerts_by_day WHERE day IN ({DAYS}) AND alert_at >= $__timeFrom "
                                  "AND alert_at < $__timeTo AND device_id = '${device}'"),
    "an unknown variable": reference("${keyspace}", "${ks}"),
    "columns the panel needs missing": reference("kind, alert_at, started_at, ended_at, score, details", "alert_at"),
    "not a string": lambda: None,
}


@pytest.mark.parametrize("what", WRONG_PANELS, ids=list(WRONG_PANELS))
def test_panel_wrong_answers_fail(other_keyspace, what):
    result = nb09.check_device_alerts_panel(WRONG_PANELS[what], pipeline_keyspace=other_keyspace)
    assert not result.passed and not result.skipped, result.message


@pytest.mark.parametrize("what, rule", [("end included", "end is excluded (alert_at < $__timeTo)"),
                                        ("start excluded", "start is included (alert_at >= $__timeFrom)"),
                                        ("first day only", "every UTC day bucket")])
def test_panel_hints_name_the_rule_of_the_range_that_was_broken(other_keyspace, what, rule):
    result = nb09.check_device_alerts_panel(WRONG_PANELS[what], pipeline_keyspace=other_keyspace)
    assert rule in result.message.split("Hint:")[1], result.message
    assert "+00:00" not in result.message, "times as UTC ISO 8601 with Z"
