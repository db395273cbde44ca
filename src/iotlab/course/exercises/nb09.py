"""Notebook 09 (the end-to-end pipeline): the Cassandra writer (a PyFlink async function), a dashboard panel's
query, and the comparison of what Cassandra holds with a batch recomputation of the same records.

The writer and the panel are checked against the lab's real node, in the scratch keyspace ``iotlab_check_nb09``
(and, for the panel, in the pipeline's own keyspace too); the writer also runs in a real, in-process Flink job.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Callable, Optional

from cassandra import ConsistencyLevel
from cassandra.query import SimpleStatement
from pyflink.common import Row, Time
from pyflink.datastream import AsyncDataStream

from iotlab.cassandra import (
    ALERTS_BY_DAY_TABLE,
    TABLES,
    Store,
    alert_record,
    all_buckets,
    closing_session,
    create_schema,
    export_alerts,
    export_latest,
    export_windows,
    render_query,
)
from iotlab.core.contract import validate_reading
from iotlab.core.timestamps import MINUTE_MS, as_utc, format_epoch_ms, timestamp_ms, timestamp_text, utc_days
from iotlab.core.windows import OnEventWatermark
from iotlab.course.checks import (  # noqa: F401 (class_or_reference: the notebook calls nb09.class_or_reference)
    CheckResult,
    check_cases,
    class_or_reference,
    error_reason,
    failed,
    is_skipped,
    passed,
    skipped,
)
from iotlab.jobs import disorder_minutes, source_event_ms
from iotlab.jobs.anomalies.silences import STORE_ROW_TYPE  # the store rows' type: (kind, device_id, row)
from iotlab.jobs.pipeline.cassandra_writer import (  # noqa: F401 (ATTEMPTS)
    ATTEMPTS,
    OUTCOME_TYPE,
    CassandraWriter,
    as_awaitable,
)

CHECK_KEYSPACE = "iotlab_check_nb09"

# ----------------------------------------------------------------------------- 09.0 the watermark's bound

MARGIN_LIMIT_MINUTES = 10  # a bound this much above the least one that makes nothing late is latency for nothing


def watermark_bound(lines: list[bytes]) -> int:
    """Reference for 09.0: the source's out-of-orderness bound, in whole minutes, for records arriving in the order
    of ``lines``: how far the worst record arrives behind the newest event time before it (rounded up), plus 5
    minutes for a stream that may be a little worse tomorrow. Every record whose timestamp can be read counts,
    even one dead-lettered for another field: the source's watermark sees it (``disorder_minutes``)."""
    return disorder_minutes(lines) + 5


def _reading_line(device: str, at: str, temperature: float = 21.0) -> bytes:
    return json.dumps({"device_id": device, "timestamp": f"2025-11-05T{at}Z", "temperature": temperature,
                       "humidity": 40.0, "status": "OK"}).encode()


def _late_readings(lines: list[bytes], bound_minutes: int) -> int:
    """How many valid readings of ``lines`` (one partition, in this order) arrive at or behind the watermark with
    this bound. Only a reading ahead of the watermark is safe from every event-time operator of the pipeline: the
    window operator drops one whose window has fired (the pipeline sends it to ``T.late``), and the detectors' OVER
    aggregates (ROWS ... UNBOUNDED PRECEDING) drop any reading at or behind their watermark, counted only in a
    metric. The watermark a record
    meets is the one the records before it made (``OnEventWatermark``)."""
    watermark = OnEventWatermark(bound_minutes * MINUTE_MS)
    late = 0
    for line in lines:
        reading, reason = validate_reading(line)
        if reason is None and watermark.current is not None and timestamp_ms(reading["timestamp"]) <= watermark.current:
            late += 1
        event_ms = source_event_ms(line)
        if event_ms is not None:
            watermark.observe(event_ms)
    return late


def _least_bound(lines: list[bytes]) -> int:
    """The smallest whole-minute bound with no late reading."""
    bound = 0
    while _late_readings(lines, bound):
        bound += 1
    return bound


def watermark_cases() -> list[tuple[str, list[bytes]]]:
    """Streams in arrival order: records that are not readings; in order; one reading 7.5 minutes behind; one exactly
    7 minutes behind (a bound of 7 puts it on the watermark: late); a run of
    readings each a little behind the one before but far behind the newest; a record dead-lettered for its value
    whose timestamp runs ahead (it moves the watermark all the same); a simulated fleet."""
    in_order = [_reading_line("d1", f"12:{minute:02d}:00") for minute in range(0, 30)]
    one_behind = in_order[:13] + [_reading_line("d2", "12:04:30")] + in_order[13:]  # 12:12 seen: 7.5 min behind
    exactly_behind = in_order[:13] + [_reading_line("d2", "12:05:00")] + in_order[13:]  # 7 minutes behind, exactly
    sliding = ([_reading_line("d1", "12:20:00")] + [_reading_line("d2", f"12:{minute:02d}:00") for minute in
                                                     (17, 14, 11)] + [_reading_line("d1", "12:21:00")])
    not_readings = [b"not json", _reading_line("d1", "12:30:00"), b'{"device_id": "d1", "timestamp": "soon"}',
                    _reading_line("d1", "12:31:00"), _reading_line("d3", "12:26:10")]
    dead_letter_ahead = [_reading_line("d1", "12:00:00"), _reading_line("d2", "12:20:00", temperature=999.0),
                         _reading_line("d1", "12:05:30"), _reading_line("d1", "12:06:30")]  # 999 °C: dead-lettered
    from iotlab.sim import SensorSimulator, SimulationConfig

    fleet = [record.value for record in SensorSimulator(SimulationConfig(
        devices=6, interval_s=60, duration_s=3 * 3600, seed=905, out_of_order_rate=0.05, late_rate=0.01,
        malformed_rate=0.01)).records()]
    return [("records that are not readings", not_readings), ("in order", in_order),
            ("one reading 7.5 minutes behind", one_behind), ("one reading exactly 7 minutes behind", exactly_behind),
            ("each behind the one before, far behind the newest", sliding),
            ("a dead-lettered record ahead of the others", dead_letter_ahead), ("a simulated fleet", fleet)]


def check_watermark_bound(function: Callable[[list[bytes]], int]) -> CheckResult:
    """Check 09.0: on each stream, the learner's bound must leave no reading at or behind the watermark (the rule by
    which the pipeline sends a reading to ``T.late``), and stay within MARGIN_LIMIT_MINUTES of the least bound that
    does."""
    name = "watermark_bound"
    if is_skipped(function, ([],)):
        return skipped(name)
    cases = watermark_cases()
    for case, lines in cases:
        try:
            bound = function(lines)
        except Exception as error:
            return failed(name, f"case '{case}' raised {type(error).__name__}: {error_reason(error)}. Hint: a record "
                                "whose timestamp cannot be read (source_event_ms gives None) has no event time: skip "
                                "it")
        if not isinstance(bound, int) or isinstance(bound, bool) or bound < 0:
            return failed(name, f"case '{case}': {bound!r} is not a whole number of minutes (the WATERMARK clause "
                                "takes INTERVAL 'n' MINUTE)")
        late = _late_readings(lines, bound)
        least = _least_bound(lines)
        if late:
            return failed(name, f"case '{case}': with a bound of {bound} minutes, {late} reading(s) would be late "
                                f"(at or behind the watermark when it arrives; the least bound without late "
                                f"readings is {least}). Hint: measure each reading against the NEWEST event time "
                                "seen before it, not the previous reading's; the bound must be MORE than the worst "
                                "delay (a reading exactly B minutes behind sits on the watermark), so round up, and "
                                "add a minute when the delay is whole; every record whose timestamp can be read moves "
                                "the watermark, even a "
"dead-lettered one (source_event_ms)")
        if bound > least + MARGIN_LIMIT_MINUTES:
            return failed(name, f"case '{case}': a bound of {bound} minutes, where {least} leaves nothing late: every "
                                "window and alert would wait that long for nothing. Hint: the bound is in minutes")
    return passed(name, f"{len(cases)} streams: no reading at or behind the watermark, no bound more than "
                        f"{MARGIN_LIMIT_MINUTES} minutes above the least one")


# ----------------------------------------------------------------------------- 09.1 the Cassandra writer

# The reference for 09.1 is the pipeline's own writer: one session and the Store's prepared statements per task;
# each row's upserts sent with ``execute_async`` and awaited; a failure that can succeed later retried ATTEMPTS
# times with back-off, then raised (the job restarts from its last checkpoint); a row Cassandra refuses returned as
# ``refused(value, error)`` (the job sends it to T.sink-dlq and runs on).
StoreWriter = CassandraWriter


def store_row(kind: str, record: dict) -> Row:
    """A row of the pipeline's ``store_rows`` view, as the writer receives it."""
    return Row(kind=kind, device_id=record["device_id"], row=json.dumps(record))


def _window(device: str, start: str, end: str, count: int, avg: float) -> dict:
    return {"device_id": device, "window_start": start, "window_end": end, "count": count, "avg_temp": avg,
            "min_temp": round(avg - 1.25, 2), "max_temp": round(avg + 0.75, 2), "avg_humidity": 41.5}


def _latest(device: str, at: str, temperature: float) -> dict:
    return {"device_id": device, "timestamp": at, "temperature": temperature, "humidity": 40.0, "status": "OK"}


def _alert(device: str, start: str, alert_at: str) -> dict:
    return {"device_id": device, "kind": "offline", "quantity": "all", "alert_at": alert_at, "start": start,
            "end": alert_at, "score": 10.0, "details": {"gap_minutes": 10}}


# A real request the one-node lab cannot serve for now: two replicas wanted, one alive. The node answers Unavailable,
# an error that can succeed later (once a second replica is up), so a writer must retry it.
UNAVAILABLE_QUERY = SimpleStatement(f"SELECT * FROM {CHECK_KEYSPACE}.{ALERTS_BY_DAY_TABLE} LIMIT 1",
                                    consistency_level=ConsistencyLevel.TWO)


class _DriverWatch:
    """While the check calls the learner's writer directly: count the sessions it connects, the statements it
    prepares, the synchronous and asynchronous requests it sends (through any session but the check's own) and the
    driver futures it waits for with a blocking ``.result()`` inside the event loop; and make the next
    ``fail_next`` of its requests fail for real with an error that can succeed later: each is sent at
    consistency TWO to the one-node lab, and the node answers Unavailable (too few replicas alive)."""

    def __init__(self, own_session) -> None:
        self.own = own_session
        self.connects = self.prepares = self.executes = self.async_calls = self.blocking_results = 0
        self.driver_depth = 0  # > 0 while a synchronous driver call (connect, prepare, execute) runs
        self.fail_next = 0
        self.clusters: list = []
        self.unanswered = 0  # requests the writer sent that the node has not answered yet

    def __enter__(self) -> "_DriverWatch":
        from cassandra.cluster import Cluster, ResponseFuture, Session

        self._originals = [(Cluster, "connect", Cluster.connect), (Session, "prepare", Session.prepare),
                           (Session, "execute", Session.execute), (Session, "execute_async", Session.execute_async),
                           (ResponseFuture, "result", ResponseFuture.result)]
        connect, prepare, execute, execute_async, result = (original for _, _, original in self._originals)
        watch = self

        def inside_the_driver(call, *args: Any, **kwargs: Any):
            """A driver call that waits for its own futures (connect, prepare, execute): those waits are not the
            learner's ``.result()``, and are counted as what they are."""
            watch.driver_depth += 1
            try:
                return call(*args, **kwargs)
            finally:
                watch.driver_depth -= 1

        def watched_connect(cluster, *args: Any, **kwargs: Any):
            watch.connects += 1
            watch.clusters.append(cluster)
            return inside_the_driver(connect, cluster, *args, **kwargs)

        def watched_prepare(session, *args: Any, **kwargs: Any):
            watch.prepares += session is not watch.own
            return inside_the_driver(prepare, session, *args, **kwargs)

        def watched_execute(session, *args: Any, **kwargs: Any):
            watch.executes += session is not watch.own
            return inside_the_driver(execute, session, *args, **kwargs)

        def watched_execute_async(session, query, *args: Any, **kwargs: Any):
            if session is watch.own:
                return execute_async(session, query, *args, **kwargs)
            watch.async_calls += 1
            if watch.fail_next > 0:
                watch.fail_next -= 1
                future = execute_async(session, UNAVAILABLE_QUERY)
            else:
                future = execute_async(session, query, *args, **kwargs)
            watch.count_until_answered(future)
            return future

        def watched_result(future, *args: Any, **kwargs: Any):
            try:
                asyncio.get_running_loop()
                # .result() with an event loop running in this thread, called by the learner's code: it blocks
                watch.blocking_results += watch.driver_depth == 0
            except RuntimeError:
                pass
            return result(future, *args, **kwargs)

        Cluster.connect, Session.prepare = watched_connect, watched_prepare
        Session.execute, Session.execute_async = watched_execute, watched_execute_async
        ResponseFuture.result = watched_result
        return self

    def count_until_answered(self, future) -> None:
        """Count ``future`` as unanswered until the node answers it. This callback is registered before the
        writer can register its own, and the driver calls them in order: a writer that awaited its write returns
        after this count went down, one that did not (fire and forget) returns with it still up."""
        self.unanswered += 1

        def answered(_outcome: Any) -> None:
            self.unanswered -= 1

        future.add_callbacks(answered, answered)

    def __exit__(self, *exc_info: Any) -> None:
        for owner, name, original in self._originals:
            setattr(owner, name, original)
        for cluster in self.clusters:  # sessions the writer opened while writing: closed, not leaked
            try:
                cluster.shutdown()
            except Exception:
                pass


def _invoke(writer, row: Row, timeout_s: float = 10.0):
    """``await writer.async_invoke(row)`` in an event loop of its own thread (a notebook's kernel already runs
    one in this thread); TimeoutError after ``timeout_s``."""
    async def call():
        return await asyncio.wait_for(writer.async_invoke(row), timeout_s)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, call()).result()


def _scratch_store(session) -> Store:
    """The course's schema in the scratch keyspace, every table empty."""
    create_schema(session, CHECK_KEYSPACE)
    for table in TABLES:
        session.execute(f"TRUNCATE {CHECK_KEYSPACE}.{table}", timeout=60)
    return Store(session, CHECK_KEYSPACE)


def _alerts_by_day(session, alerts: list[dict]) -> list[dict]:
    """What alerts_by_day holds for the days of ``alerts``, as alert records."""
    days = sorted({as_utc(alert["alert_at"]).date() for alert in alerts})
    rows = [row for day in days for bucket in all_buckets() for row in session.execute(
        f"SELECT * FROM {CHECK_KEYSPACE}.{ALERTS_BY_DAY_TABLE} WHERE day = %s AND bucket = %s", (day, bucket))]
    return sorted((alert_record(row) for row in rows),
                  key=lambda a: (as_utc(a["alert_at"]), a["device_id"], a["kind"], a["quantity"]))


def _contract(record: dict) -> dict:
    """A record as the store's exports write it back (times to the second when they have no fraction)."""
    times = ("window_start", "window_end", "timestamp", "alert_at", "start", "end")
    return {key: timestamp_text(value) if key in times else value for key, value in record.items()}


WRITER_HINT = ("open(): one session for the task and the Store's prepared statements. async_invoke(): the statements "
               "this kind of row needs (an alert goes to both alert tables), sent with execute_async and awaited "
               "(as_awaitable); return [written(value)] once they are all in Cassandra")


def _outcome(returned: Any) -> Optional[Any]:
    """The one outcome in what ``async_invoke`` returned (a list with one Row), or None when it is not that."""
    if not isinstance(returned, (list, tuple)) or len(returned) != 1:
        return None
    outcome = returned[0]
    return outcome if all(hasattr(outcome, field) for field in ("kind", "device_id", "row", "error")) else None


class _ReturnedBeforeTheAnswer(BaseException):
    """The writer's async_invoke returned while a write it sent was still unanswered (fire and forget). A
    BaseException so that the cases' own ``except Exception`` (the writer raised) let it through."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _direct_cases(writer, session) -> Optional[CheckResult]:
    """Call the learner's ``async_invoke`` row by row and look at the tables after each; None when all is right."""
    name = "StoreWriter"
    with _DriverWatch(session) as watch:
        try:
            return _row_by_row(name, writer, watch, session)
        except _ReturnedBeforeTheAnswer as early:
            return failed(name, f"async_invoke returned for a {early.kind} row before Cassandra answered its "
                                "write(s): await every write (await as_awaitable(future)). A write that is not "
                                "awaited may still fail, and its error is never seen: the row is lost while the "
                                "job counts it as written")


def _row_by_row(name: str, writer, watch: _DriverWatch, session) -> Optional[CheckResult]:
    """The cases of ``_direct_cases``, in order: the first wrong answer's result, or None when all is right."""
    windows = [_window("device-01", "2025-11-05T23:55:00Z", "2025-11-06T00:00:00Z", 5, 21.25),
               _window("device-01", "2025-11-06T00:00:00Z", "2025-11-06T00:05:00Z", 4, 21.5)]
    alert = _alert("device-02", "2025-11-05T23:58:00.000Z", "2025-11-06T00:08:00.000Z")
    newer = _latest("device-03", "2025-11-06T00:05:00.000Z", 22.0)
    older = _latest("device-03", "2025-11-06T00:01:00.000Z", 99.0)
    rows = 0

    def invoke(kind: str, record: dict):
        nonlocal rows
        rows += 1
        returned = _invoke(writer, store_row(kind, record))
        if watch.unanswered:
            raise _ReturnedBeforeTheAnswer(kind)
        return returned

    for window in windows:
        try:
            returned = invoke("window", window)
        except NotImplementedError:
            return skipped(name)
        except Exception as error:
            return failed(name, f"a window row raised {type(error).__name__}: {error_reason(error)}. Hint: "
                                f"{WRITER_HINT}")
        outcome = _outcome(returned)
        if outcome is None or outcome.error is not None or outcome.kind != "window":
            return failed(name, f"async_invoke returned {returned!r} for a window row: return [written(value)], "
                                "the row's outcome (the job counts the rows written and sends refused ones to "
                                "T.sink-dlq)")
    stored = export_windows(session, CHECK_KEYSPACE)
    if stored != [_contract(window) for window in windows]:
        return failed(name, f"after two window rows the windows table holds {stored}. Hint: a window is "
                            "store.insert_window with window_values(row)")
    try:
        invoke("alert", alert)
    except Exception as error:
        return failed(name, f"an alert row raised {type(error).__name__}: {error_reason(error)}. "
                            f"Hint: {WRITER_HINT}")
    by_device, by_day = export_alerts(session, CHECK_KEYSPACE), _alerts_by_day(session, [alert])
    if by_device != [_contract(alert)] or by_day != [_contract(alert)]:
        where = {(True, True): "both tables, but not as sent", (True, False): "alerts_by_device_day only",
                 (False, True): "alerts_by_day only", (False, False): "neither alert table"}
        return failed(name, f"the alert is in {where[bool(by_device), bool(by_day)]}: an alert goes to BOTH alert "
                            "tables (one answers 'the fleet's alerts of a day', the other 'a device's alerts'), "
                            "together: store.alert_batch(row) is both upserts in one LOGGED batch")
    # device-03: the newer reading arrives first; device-04: the older one does
    for reading in (newer, older, {**older, "device_id": "device-04"}, {**newer, "device_id": "device-04"}):
        try:
            invoke("latest", reading)
        except Exception as error:
            return failed(name, f"a latest-reading row raised {type(error).__name__}: {error_reason(error)}. "
                                f"Hint: {WRITER_HINT}")
    latest = {record["device_id"]: record for record in export_latest(session, CHECK_KEYSPACE)}
    if sorted(latest) != ["device-03", "device-04"]:
        return failed(name, f"the latest-reading table holds devices {sorted(latest)}, expected device-03 and "
                            "device-04. Hint: store.upsert_latest with latest_reading_values(row)")
    if latest["device-03"]["temperature"] != newer["temperature"]:
        return failed(name, "device-03's reading of 00:05 was written, then its older reading of 00:01, and the "
                            "table now holds the older one: the write arriving last won. Hint: "
                            "store.upsert_latest with latest_reading_values(row) writes USING TIMESTAMP of the "
                            "reading's event time, so the newest event wins whatever order the writes arrive in")
    calls_before = watch.async_calls
    watch.fail_next = 1
    retried = _window("device-05", "2025-11-06T00:10:00Z", "2025-11-06T00:15:00Z", 5, 19.0)
    try:
        invoke("window", retried)
    except Exception as error:
        return failed(name, f"the node answered Unavailable once (too few replicas alive: an error that can "
                            f"succeed later) and async_invoke raised {type(error).__name__}: "
                            f"{error_reason(error)}. Hint: retry what can succeed later "
                            "(iotlab.cassandra.can_succeed_later) a few times, waiting longer each time (the "
                            "upserts are idempotent, so sending one again is safe)")
    if watch.async_calls - calls_before < 2 or _contract(retried) not in export_windows(session, CHECK_KEYSPACE):
        return failed(name, "after one Unavailable answer the window was not sent again: await every write (an "
                            "error that is not awaited is never seen), and retry one that can succeed later "
                            "(execute_async once more) instead of giving up on it")
    poison = {**_window("device-06", "2025-11-06T00:10:00Z", "2025-11-06T00:15:00Z", 5, 19.0), "device_id": None}
    calls_before = watch.async_calls
    try:
        returned = invoke("window", poison)
    except asyncio.TimeoutError:
        return failed(name, "a window without a device_id (the node refuses it: InvalidRequest) was still being "
                            "retried after 10 s: a refused row gets the same answer every time")
    except Exception as error:
        return failed(name, f"a window without a device_id, which the node refuses (InvalidRequest), raised "
                            f"{type(error).__name__}: {error_reason(error)}. Raising fails the job, and the "
                            "restarted job would meet the same row again, forever. Return [refused(value, error)] "
                            "instead: the job sends it to T.sink-dlq and runs on (iotlab.cassandra.is_refused)")
    outcome = _outcome(returned)
    if outcome is None or not outcome.error or "InvalidRequest" not in outcome.error:
        return failed(name, f"a window without a device_id, which the node refuses, returned {returned!r}: return "
                            "[refused(value, error)], which carries the row and the node's error to T.sink-dlq "
                            "(a row dropped without a trace is lost)")
    if watch.async_calls - calls_before > 1:
        return failed(name, f"a row the node refused (InvalidRequest) was sent {watch.async_calls - calls_before} "
                            "times: retry only what can succeed later (timeouts, unavailable, overloaded, "
                            "connection errors); a refused row gets the same answer every time")
    calls_before = watch.async_calls
    watch.fail_next = 1000
    hopeless = _window("device-07", "2025-11-06T00:10:00Z", "2025-11-06T00:15:00Z", 5, 19.0)
    try:
        returned = invoke("window", hopeless)
    except asyncio.TimeoutError:
        return failed(name, "a write the node keeps answering Unavailable was still being retried after 10 s: give "
                            "up after a few attempts and raise the error (Flink then restarts the job, with its "
                            "own back-off, for as long as the outage lasts)")
    except Exception:
        if watch.async_calls - calls_before < 2:
            return failed(name, "a write that can succeed later (Unavailable) was raised at once, not retried")
    else:
        return failed(name, f"a write the node answered Unavailable every time returned {returned!r} instead of "
                            "raising: when retries run out, raise the error. The job then restarts from its last "
                            "checkpoint and writes the row again once Cassandra is back; swallowed (or set aside "
                            "as refused), a row that would have succeeded later is lost")
    finally:
        watch.fail_next = 0
    if watch.connects:
        return failed(name, f"async_invoke connected {watch.connects} new session(s) for {rows} rows: connect "
                            "once per task, in open(), and reuse that session for every row (each new session "
                            "opens connections and reads the cluster's metadata before its first request)")
    if watch.prepares:
        return failed(name, f"async_invoke prepared {watch.prepares} statement(s) while writing {rows} rows: "
                            "prepare once, in open() (Store(...) does), then bind each row's values")
    if watch.executes:
        return failed(name, f"{watch.executes} synchronous session.execute call(s) in async_invoke: each blocks "
                            "the event loop until the node answers, so the rows are written one at a time. Use "
                            "session.execute_async and await it (as_awaitable)")
    if watch.blocking_results:
        return failed(name, f"{watch.blocking_results} driver future(s) waited for with .result() inside "
                            "async_invoke: .result() blocks the event loop until the node answers, so the rows are "
                            "written one at a time. Await the future instead (await as_awaitable(future))")
    return None


def _flink_rows() -> tuple[list[Row], dict[str, list[dict]]]:
    """Rows for the Flink run: windows of three devices, two alerts, latest readings out of order; and what the
    tables must hold afterwards."""
    windows = [_window(f"device-0{device}", f"2025-11-06T0{hour}:{minute:02d}:00Z",
                       f"2025-11-06T0{hour}:{minute + 5:02d}:00Z", 5, 20.0 + device + minute / 10)
               for device in (1, 2, 3) for hour in (1, 2) for minute in (0, 25, 50)]
    alerts = [_alert("device-01", "2025-11-06T01:02:00.000Z", "2025-11-06T01:12:00.000Z"),
              _alert("device-03", "2025-11-06T02:40:00.000Z", "2025-11-06T02:50:00.000Z")]
    readings = [_latest(f"device-0{device}", f"2025-11-06T02:5{minute}:00.000Z", 20.0 + minute)
                for device in (1, 2, 3) for minute in (4, 9, 1)]  # the newest (02:59) arrives second
    rows = ([store_row("window", window) for window in windows] + [store_row("alert", alert) for alert in alerts]
            + [store_row("latest", reading) for reading in readings])
    newest = {reading["device_id"]: reading for reading in readings if "T02:59" in reading["timestamp"]}
    expected = {"windows": sorted((_contract(w) for w in windows), key=lambda w: (w["window_start"], w["device_id"])),
                "alerts": [_contract(alert) for alert in alerts],
                "latest": [_contract(newest[device]) for device in sorted(newest)]}
    return rows, expected


def _run_in_flink(writer_class: type, rows: list[Row]) -> list[Row]:
    """The learner's writer in a real (in-process) Flink job, fed from a collection; its outputs."""
    from iotlab.flink.environments import stream_environment

    env = stream_environment(kafka=False, options={"restart-strategy.type": "none"})
    env.set_parallelism(1)
    stream = env.from_collection(rows, type_info=STORE_ROW_TYPE)
    outcomes = AsyncDataStream.unordered_wait(stream, writer_class(CHECK_KEYSPACE), Time.seconds(60), capacity=16,
                                              output_type=OUTCOME_TYPE)
    return list(outcomes.execute_and_collect())


def _job_failure(error: BaseException) -> str:
    """Why a Flink job failed, in one line: the Python error when there is one, else Flink's deepest cause."""
    python_errors = re.findall(r"^\s*(\w+(?:Error|Exception): .*)$", str(error), flags=re.MULTILINE)
    return (python_errors[-1] if python_errors else error_reason(error)).strip()[:300]


def check_store_writer(writer_class: type) -> CheckResult:
    """Check 09.1 against the real node: call the writer row by row (windows, an alert, latest readings out of
    order, a write the node refuses once, one it refuses every time), watching the driver calls it makes; then
    run it in a real Flink job and compare the tables with what they must hold."""
    name = "StoreWriter"
    with closing_session() as session:
        _scratch_store(session)
        writer = writer_class(CHECK_KEYSPACE)
        try:
            writer.open(None)
        except NotImplementedError:
            return skipped(name)
        except Exception as error:
            return failed(name, f"open(None) raised {type(error).__name__}: {error_reason(error)} (the check calls "
                                f"open outside Flink, without a runtime context). Hint: {WRITER_HINT}")
        try:
            verdict = _direct_cases(writer, session)
        finally:
            close = getattr(writer, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:
                    pass
        if verdict is not None:
            return verdict
        _scratch_store(session)
        rows, expected = _flink_rows()
        try:
            outputs = _run_in_flink(writer_class, rows)
        except Exception as error:
            return failed(name, f"in a Flink job, the writer failed: {_job_failure(error)}. Hint: everything the "
                                "writer holds before open() is pickled and sent to Flink's Python workers: create the "
                                "session in open(), never in __init__")
        emitted = Counter((outcome.kind, outcome.error) for outcome in outputs)
        if emitted != Counter((row.kind, None) for row in rows):
            return failed(name, f"the Flink job emitted {dict(emitted)} (kind, error) for rows "
                                f"{dict(Counter(r.kind for r in rows))}: return [written(value)] once each row is "
                                "written")
        actual = {"windows": export_windows(session, CHECK_KEYSPACE), "alerts": export_alerts(session, CHECK_KEYSPACE),
                  "latest": export_latest(session, CHECK_KEYSPACE)}
        for kind, want in expected.items():
            if actual[kind] != want:
                return failed(name, f"after the Flink job, the {kind} in Cassandra differ from what was sent: "
                                    f"{len(actual[kind])} rows, expected {len(want)}")
        if _alerts_by_day(session, expected["alerts"]) != expected["alerts"]:
            return failed(name, "after the Flink job, alerts_by_day does not hold the two alerts")
        return passed(name, f"every kind of row written (alerts in both tables, the newest reading kept whatever the "
                            "order), an Unavailable answer retried, a refused row set aside without a retry, a "
                            "lasting outage raised, one session and no blocking call; then "
                            f"{len(rows)} rows through a real Flink job, equal in Cassandra")


# ----------------------------------------------------------------------------- 09.2 a dashboard panel

PANEL_DAYS = 8  # the day buckets a panel query lists, as the dashboard's own panels do: ranges up to 7 days
PANEL_COLUMNS = ("alert_at", "kind", "started_at", "ended_at")  # what the panel shows of each alert


def device_alerts_panel() -> str:
    """Reference for 09.2: the CQL of a panel 'Alerts of ${device}', with the dashboard's variables and the
    plugin's time macros: the device's alerts raised in the panel's time range."""
    days = ", ".join(["todate($__timeFrom)"] + [f"todate($__timeFrom) + {n}d" for n in range(1, PANEL_DAYS - 1)]
                     + ["todate($__timeTo)"])
    return ("SELECT device_id, kind, alert_at, started_at, ended_at, score, details "
            "FROM ${keyspace}.alerts_by_device_day "
            f"WHERE device_id = '${{device}}' AND day IN ({days}) "
            "AND alert_at >= $__timeFrom AND alert_at < $__timeTo")


def _panel_alerts() -> list[dict]:
    """The scratch keyspace's alerts for the panel's check: three days, alerts at and around midnight."""
    moments = {"device-01": ["2025-11-05T08:00:00Z", "2025-11-06T06:30:00Z", "2025-11-07T23:59:59.999Z"],
               "device-02": ["2025-11-05T10:00:00Z", "2025-11-05T23:50:00Z", "2025-11-06T00:00:00Z",
                             "2025-11-06T00:20:00Z", "2025-11-06T12:00:00Z", "2025-11-07T00:05:00Z"]}
    alerts = []
    for device, times in moments.items():
        for at in times:
            alerts.append({"device_id": device, "kind": "offline", "quantity": "all", "alert_at": at,
                           "start": format_epoch_ms(timestamp_ms(at) - 10 * 60_000), "end": at, "score": 10.0,
                           "details": {"gap_minutes": 10}})
        alerts.append({"device_id": device, "kind": "spike", "alert_at": times[1], "start": times[1], "end": times[1],
                       "score": 3.5, "details": {"threshold": 3}})
    return alerts


PANEL_CASES = [  # (case, device, start, end)
    ("within one day", "device-02", "2025-11-06T10:00:00Z", "2025-11-06T13:00:00Z"),
    ("across midnight", "device-02", "2025-11-05T23:00:00Z", "2025-11-06T01:00:00Z"),
    ("starting exactly at an alert (included)", "device-02", "2025-11-06T00:20:00Z", "2025-11-06T12:00:00Z"),
    ("ending exactly at midnight (excluded)", "device-02", "2025-11-05T20:00:00Z", "2025-11-06T00:00:00Z"),
    ("three days", "device-02", "2025-11-05T00:00:00Z", "2025-11-08T00:00:00Z"),
    ("another device, three days", "device-01", "2025-11-05T00:00:00Z", "2025-11-08T00:00:00Z"),
    ("a device without alerts", "device-03", "2025-11-05T00:00:00Z", "2025-11-08T00:00:00Z"),
]


def _panel_rule(statement: str) -> Optional[str]:
    """What makes a rendered panel query read more than the partitions it needs, if anything."""
    if "ALLOW FILTERING" in statement.upper():
        return ("ALLOW FILTERING lets the node scan every partition of the table and filter: a dashboard that "
                "refreshes every few seconds must read only its partitions (device_id = ... AND day IN (...))")
    table = re.search(r"\bFROM\s+(\w+)\.(\w+)", statement, flags=re.IGNORECASE)
    if table is None or table.group(2).lower() != "alerts_by_device_day":
        return "read ${keyspace}.alerts_by_device_day: its partition is one device and one UTC day"
    where = re.split(r"\bWHERE\b", statement, maxsplit=1, flags=re.IGNORECASE)
    for column in ("device_id", "day"):
        if len(where) < 2 or not re.search(rf"\b{column}\s*(=|IN\b)", where[1], flags=re.IGNORECASE):
            return f"the partition key column {column} is not restricted (= or IN): the node would read every partition"
    return None


def _panel_rows(session, statement: str) -> tuple[list[tuple], list[str]]:
    """Run a rendered panel query paged, as the plugin's driver does; its rows (the panel's columns) and columns."""
    result = session.execute(SimpleStatement(statement, fetch_size=1000), timeout=30)
    columns = list(result.column_names or [])
    rows = list(result)
    if not set(PANEL_COLUMNS) <= set(columns):
        return [], columns
    return [tuple(as_utc(getattr(row, c)) if c != "kind" else row.kind for c in PANEL_COLUMNS) for row in rows], columns


def _store_answer(store: Store, device: str, start: Any, end: Any) -> list[tuple]:
    frame = store.device_alerts(device, start, end)
    if frame.empty:
        return []
    return [(as_utc(row.alert_at.to_pydatetime()), row.kind, as_utc(row.started_at.to_pydatetime()),
             as_utc(row.ended_at.to_pydatetime())) for row in frame.itertuples()]


def _newest_first(rows: list[tuple]) -> list[tuple]:
    """As the panel shows them: its transformation sorts by alert_at, newest first (then by kind)."""
    return sorted(rows, key=lambda row: (-row[0].timestamp(), row[1]))


def _alert_times(rows: list[tuple]) -> list[str]:
    """The first three rows' alert times, as UTC ISO 8601 text."""
    return [timestamp_text(row[0]) for row in rows[:3]]


def _panel_hint(missing: list[tuple], extra: list[tuple], start: datetime, end: datetime) -> str:
    """The rule of the panel's range that the differing rows broke: the start is included, the end excluded,
    and every UTC day between them is a partition to list."""
    if any(row[0] == end for row in extra):
        return "the range's end is excluded (alert_at < $__timeTo): an alert exactly at its end is not in it"
    if any(row[0] > end for row in extra):
        return "bound alert_at by the range's end too: alert_at < $__timeTo"
    if any(row[0] < start for row in extra):
        return "bound alert_at by the range's start: alert_at >= $__timeFrom (a day bucket holds the whole day)"
    if any(row[0] == start for row in missing):
        return "the range's start is included (alert_at >= $__timeFrom): an alert exactly at its start is in it"
    if missing:
        return ("list every UTC day bucket of the range, from todate($__timeFrom) to todate($__timeTo), in "
                "day IN (...): an alert on a day not listed is never read")
    return "every day bucket of the range, alert_at >= $__timeFrom AND alert_at < $__timeTo"


def check_device_alerts_panel(function: Callable[[], str], pipeline_keyspace: Optional[str] = None) -> CheckResult:
    """Check 09.2: render the learner's panel query for each case (keyspace, device, time range), run it paged on
    the node, and compare the alerts with ``Store.device_alerts`` (the store's own answer to query Q4); cases in
    the scratch keyspace (three days around midnights) and, when given, for every device of the pipeline's
    keyspace over the time its alerts span."""
    name = "device_alerts_panel"
    if is_skipped(function, ()):
        return skipped(name)
    try:
        template = function()
    except Exception as error:
        return failed(name, f"raised {type(error).__name__}: {error}")
    if not isinstance(template, str):
        return failed(name, f"returned {template!r}: return the panel's CQL as a string")
    with closing_session() as session:
        store = _scratch_store(session)
        store.write_alerts(_panel_alerts()).raise_for_failures()
        cases = [(case, CHECK_KEYSPACE, device, start, end) for case, device, start, end in PANEL_CASES]
        if pipeline_keyspace:
            found = export_alerts(session, pipeline_keyspace)
            if found:
                first, last = min(a["alert_at"] for a in found), max(a["alert_at"] for a in found)
                for device in sorted({a["device_id"] for a in found}):
                    cases.append((f"{device} in {pipeline_keyspace}, from its first alert to its last (excluded)",
                                  pipeline_keyspace, device, first, last))
        for case, keyspace, device, start, end in cases:
            if len(utc_days(as_utc(start), as_utc(end))) > PANEL_DAYS:
                continue  # longer than the panel's day list covers (the dashboard's limit too)
            try:
                statement = render_query(template, {"keyspace": keyspace, "device": device}, start, end)
            except KeyError as unknown:
                return failed(name, f"unknown placeholder ${{{unknown.args[0]}}}: the dashboard defines ${{keyspace}} "
                                    "and ${device}, and the plugin the macros $__timeFrom and $__timeTo")
            rule = _panel_rule(statement)
            if rule:
                return failed(name, f"case '{case}': {rule}")
            try:
                rows, columns = _panel_rows(session, statement)
            except Exception as error:
                return failed(name, f"case '{case}': the node refused the query: {error_reason(error)}. Hint: "
                                    "list every UTC day of the range in day IN (todate($__timeFrom), "
                                    "todate($__timeFrom) + 1d, ..., todate($__timeTo)) and bound alert_at; no ORDER "
                                    "BY (a paged query cannot sort across the partitions of an IN: the panel sorts)")
            if not set(PANEL_COLUMNS) <= set(columns):
                return failed(name, f"the query returns {columns}; the panel shows {', '.join(PANEL_COLUMNS)}")
            expected = _newest_first(_store_answer(Store(session, keyspace), device, start, end))
            got = _newest_first(rows)
            if got != expected:
                missing = [row for row in expected if row not in got]
                extra = [row for row in got if row not in expected]
                return failed(name, f"case '{case}': {len(got)} alerts, expected {len(expected)} (missing "
                                    f"{_alert_times(missing)}, not expected {_alert_times(extra)}). Hint: "
                                    f"{_panel_hint(missing, extra, as_utc(start), as_utc(end))}")
        return passed(name, f"all {len(cases)} cases equal the store's answer, one partition per device and day, "
                            "no ALLOW FILTERING")


# ----------------------------------------------------------------------------- 09.3 the recomputation check

ABSENT = object()  # a field one side does not have


def _same(a: Any, b: Any, tolerance: float) -> bool:
    numbers = (a, b)
    if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in numbers):
        return abs(a - b) <= tolerance or (isinstance(a, float) and isinstance(b, float) and math.isnan(a)
                                           and math.isnan(b))
    return a == b


def compare_rows(actual: list[dict], expected: list[dict], key: tuple[str, ...],
                 tolerance: float = 1e-9) -> dict[str, list]:
    """Reference for 09.3: how ``actual`` (rows read back) differs from ``expected`` (the recomputation), rows
    matched by their ``key`` fields, in any order. Each list sorted:

    - ``missing``: keys expected but not in actual; ``extra``: keys in actual but not expected;
    - ``duplicated``: keys found more than once in actual;
    - ``different``: (key, field) pairs where a row of actual and the expected row disagree: a field only one
      side has, numbers more than ``tolerance`` apart, or other values not equal.
    """
    def key_of(row: dict) -> tuple:
        return tuple(row.get(field) for field in key)

    wanted = {key_of(row): row for row in expected}
    seen = Counter(key_of(row) for row in actual)
    different = set()
    for row in actual:
        want = wanted.get(key_of(row))
        if want is None:
            continue
        for field in set(row) | set(want):
            if not _same(row.get(field, ABSENT), want.get(field, ABSENT), tolerance):
                different.add((key_of(row), field))
    return {"missing": sorted(k for k in wanted if k not in seen), "extra": sorted(k for k in seen if k not in wanted),
            "duplicated": sorted(k for k, n in seen.items() if n > 1), "different": sorted(different)}


def _w(device: str, minute: int, avg: float = 21.0, count: int = 5) -> dict:
    start = f"2025-11-05T22:{minute:02d}:00Z"
    return {"device_id": device, "window_start": start, "window_end": f"2025-11-05T22:{minute + 5:02d}:00Z",
            "count": count, "avg_temp": avg, "min_temp": 20.0, "max_temp": 22.5, "avg_humidity": 40.0}


WINDOW_KEY = ("device_id", "window_start")
_EXPECTED = [_w("device-01", 0), _w("device-01", 5, 21.5), _w("device-02", 0, 19.25), _w("device-02", 5, 19.0, 4)]

COMPARE_CASES = [
    ("equal, in another order", (list(reversed(_EXPECTED)), _EXPECTED, WINDOW_KEY)),
    ("a row missing", (_EXPECTED[1:], _EXPECTED, WINDOW_KEY)),
    ("a row extra", (_EXPECTED + [_w("device-03", 0)], _EXPECTED, WINDOW_KEY)),
    ("a row twice (duplicated, not extra)", (_EXPECTED + [_EXPECTED[2]], _EXPECTED, WINDOW_KEY)),
    ("a float within the tolerance", ([{**_EXPECTED[0], "avg_temp": 21.0 + 1e-12}] + _EXPECTED[1:], _EXPECTED,
                                      WINDOW_KEY)),
    ("a float beyond it", ([{**_EXPECTED[0], "avg_temp": 21.001}] + _EXPECTED[1:], _EXPECTED, WINDOW_KEY)),
    ("a wider tolerance", ([{**_EXPECTED[0], "avg_temp": 21.001}] + _EXPECTED[1:], _EXPECTED, WINDOW_KEY, 0.01)),
    ("a count off by one", (_EXPECTED[:3] + [{**_EXPECTED[3], "count": 5}], _EXPECTED, WINDOW_KEY)),
    ("a field missing", ([{k: v for k, v in _EXPECTED[0].items() if k != "avg_humidity"}] + _EXPECTED[1:],
                         _EXPECTED, WINDOW_KEY)),
    ("an integer that equals the float", ([{**_EXPECTED[0], "avg_temp": 21}] + _EXPECTED[1:], _EXPECTED,
                                           WINDOW_KEY)),
    ("a duplicate that differs", (_EXPECTED + [{**_EXPECTED[1], "avg_temp": 30.0}], _EXPECTED, WINDOW_KEY)),
    ("nothing read back", ([], list(reversed(_EXPECTED)), WINDOW_KEY)),
    ("nothing expected", (_EXPECTED[:1], [], WINDOW_KEY)),
    ("an end time that differs", ([{**_EXPECTED[0], "window_end": "2025-11-05T22:10:00Z"}] + _EXPECTED[1:],
                                   _EXPECTED, WINDOW_KEY)),
    ("a minimum and a maximum that differ", (_EXPECTED[:2] + [{**_EXPECTED[2], "min_temp": 19.5},
                                                              {**_EXPECTED[3], "max_temp": 23.0}], _EXPECTED,
                                             WINDOW_KEY)),
    ("a field only the row read back has", ([{**_EXPECTED[0], "ttl": 7776000}] + _EXPECTED[1:], _EXPECTED,
                                            WINDOW_KEY)),
    ("an alert's details (a dict) that differ",
     ([{"device_id": "device-01", "kind": "spike", "alert_at": "2025-11-05T22:03:00.000Z", "score": 4.2,
        "details": {"threshold": 3.0, "window": 20}}],
      [{"device_id": "device-01", "kind": "spike", "alert_at": "2025-11-05T22:03:00.000Z", "score": 4.2,
        "details": {"threshold": 3.5, "window": 20}}], ("device_id", "kind", "alert_at"))),
    ("a one-field key, a text value", ([{"device_id": "device-01", "status": "OK", "temperature": 20.5},
                                        {"device_id": "device-02", "status": "FAULT", "temperature": 19.0}],
                                       [{"device_id": "device-01", "status": "OK", "temperature": 20.5},
                                        {"device_id": "device-02", "status": "OK", "temperature": 19.0}],
                                       ("device_id",))),
]


def check_compare_rows(function: Callable) -> CheckResult:
    return check_cases(
        "compare_rows", function, compare_rows, COMPARE_CASES,
        hint="key each row by tuple(row[f] for f in key); missing/extra are keys on one side only, duplicated the "
             "keys seen more than once in actual, different the (key, field) pairs that disagree (numbers within "
             "tolerance are equal, a field only one side has is not); sort every list",
        probe_args=([], [], ("device_id",)),
    )


# ----------------------------------------------------------------------------- 09.4 the failure test

@dataclass
class RunEvidence:
    """What a failure test of the pipeline can know once the run is over; the check passes the notebook's real run,
    then copies of it with one thing wrong.

    ``restores``: how many times the job was restored from a checkpoint (REST ``/jobs/<id>/checkpoints``);
    ``lag``: the records of the topic the job's consumer group has not committed; ``stored`` and ``expected``: per
    table, the rows Cassandra holds and the batch recomputation of the records read; ``keys``: each table's key
    fields."""

    restores: int
    lag: int
    stored: dict[str, list[dict]]
    expected: dict[str, list[dict]]
    keys: dict[str, tuple[str, ...]]


def assert_nothing_lost(evidence: RunEvidence) -> None:
    """Reference for 09.4: raise AssertionError, saying what is wrong, unless the run proves that the fault
    happened, that the job read everything, and that Cassandra holds exactly the recomputation."""
    assert evidence.restores >= 1, "the job was never restored from a checkpoint: the fault did not happen"
    assert evidence.lag == 0, f"{evidence.lag} records not read yet: compare once the job has caught up"
    assert any(evidence.expected.values()), "nothing to compare: a run that wrote nothing proves nothing"
    for table, key in evidence.keys.items():
        found = compare_rows(evidence.stored[table], evidence.expected[table], key)
        wrong = {what: keys for what, keys in found.items() if keys}
        assert not wrong, f"{table}: " + "; ".join(f"{len(keys)} {what}, e.g. {keys[0]}"
                                                   for what, keys in wrong.items())


def _failure_cases(real: RunEvidence) -> list[tuple[str, RunEvidence, bool]]:
    """(case, evidence, must the test fail?): the real run, then copies of it with one thing wrong each."""
    def changed(**fields) -> RunEvidence:
        return replace(real, **fields)

    def tables(table: str, rows: list[dict]) -> dict[str, list[dict]]:
        return {**real.stored, table: rows}

    windows, alerts, latest = real.stored["windows"], real.stored["alerts"], real.stored["latest"]
    cases = [("the real run", real, False),
             ("no restore: the fault never happened", changed(restores=0), True),
             ("compared before the job caught up (lag 120)", changed(lag=120), True),
             ("nothing written and nothing expected", changed(stored={t: [] for t in real.stored},
                                                              expected={t: [] for t in real.expected}), True),
             ("a window missing", changed(stored=tables("windows", windows[1:])), True),
             ("a window written twice", changed(stored=tables("windows", windows + windows[:1])), True),
             ("a window's count one short", changed(stored=tables("windows", [
                 {**windows[0], "count": windows[0]["count"] - 1}] + windows[1:])), True),
             ("a latest reading of a device that never sent", changed(stored=tables("latest", latest + [
                 {**latest[0], "device_id": "device-99"}])), True)]
    if alerts:
        cases.append(("an alert's score changed", changed(stored=tables("alerts", [
            {**alerts[0], "score": alerts[0]["score"] + 1.0}] + alerts[1:])), True))
    return cases


def check_failure_test(function: Callable[[RunEvidence], None], real: RunEvidence) -> CheckResult:
    """Check 09.4: the learner's failure test passes the real run (when the reference does) and fails, with an
    AssertionError that says why, on each copy of it with one thing wrong."""
    name = "failure_test"
    if is_skipped(function, (real,)):
        return skipped(name)
    try:
        assert_nothing_lost(real)
    except AssertionError as error:
        return failed(name, f"the real run itself lost or changed something ({error}): see section 8's table, "
                            "and exercises 09.1 and 09.3, before your test")
    for case, evidence, must_fail in _failure_cases(real):
        try:
            function(evidence)
        except AssertionError as error:
            if not must_fail:
                return failed(name, f"your test fails the real run, which lost nothing: {error}")
            if not str(error).strip():
                return failed(name, f"case '{case}': your test failed, as it should, but without saying why. Hint: "
                                    "assert condition, \"what is wrong\"")
            continue
        except Exception as error:
            return failed(name, f"case '{case}' raised {type(error).__name__}: {error_reason(error)}. Hint: a test "
                                "fails with AssertionError (assert ...), not by crashing")
        if must_fail:
            return failed(name, f"case '{case}': your test passed it. Hint: a failure test proves the fault "
                                "happened (restores), that the job read everything (lag), that there was "
                                "something to compare, and that every table equals the recomputation "
                                "(compare_rows: missing, extra, duplicated, different)")
    cases = _failure_cases(real)
    return passed(name, f"the real run passes; {len(cases) - 1} copies with one thing wrong each fail, saying why")
