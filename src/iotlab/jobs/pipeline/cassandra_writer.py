"""The pipeline's Cassandra sink: a PyFlink async function that upserts each store row with cassandra-driver.

No Flink Cassandra connector exists for Flink 2.x, so the job writes with the driver itself, the way
Flink's async I/O is meant for (``AsyncDataStream``, PyFlink 2.2):

- **Opened once per task.** ``open`` connects one session and prepares the store's statements (``Store``);
  every row reuses them. A session is never shared across processes: each Python worker opens its own.
- **Bounded in flight.** The async operator keeps at most ``capacity`` rows in flight; when they are all
  waiting for Cassandra, it stops taking input instead of queueing without limit. PyFlink also ends every
  bundle (``python.fn-execution.bundle.time``, 50 ms in the pipeline) by waiting for every write in flight, so a
  Cassandra that hangs stops the writer within a bundle; its input then waits in the network buffers, and once
  they are full, backpressure (visible in the Web UI) spreads back to the source.
- **Each failure handled by what it means** (``iotlab.cassandra.can_succeed_later`` / ``is_refused``):
  - *can succeed later* (a timeout, too few replicas alive, an overloaded or unreachable node): retried with
    exponential back-off, ``ATTEMPTS`` times in all; then the exception fails the task and Flink restarts the job
    from its last checkpoint, with the job's restart strategy (exponential delay, ``runner.SERVICE_RESTARTS``),
    for as long as the outage lasts. Nothing is lost: the rows after the checkpoint are computed again.
  - *refused* (Cassandra answers "invalid request", e.g. a null primary key column; or the row cannot even be
    bound to the statement): sending it again gives the same answer, and failing the job would replay it
    forever. The row goes out of the writer as a **refused** outcome, with the error, and the job writes it to the
    dead-letter topic ``T.sink-dlq``; the job runs on.
  - anything else (a bug): raised at once.
  The retries live in ``async_invoke`` itself rather than in PyFlink's retry strategy: that one needs an
  operator timeout, which PyFlink 2.2 implements with one ``threading.Timer`` (a new thread) per record,
  measured here at a fifth of the writer's speed.
- **Effectively once.** Each row's primary key is a function of the data (device, day, window start;
  day, bucket, alert time, device, kind, quantity), and every statement is an idempotent upsert: a replay after a
  failure rewrites identical rows. Before each checkpoint PyFlink's async operator waits for every write in flight
  (its bundle finishes), so a completed checkpoint means every row before it is in Cassandra, acknowledged at
  the session's consistency level (LOCAL_QUORUM) or set aside in ``T.sink-dlq``. (Java's async operator does
  not wait: it stores the rows still in flight in the checkpoint and sends them again after a restore.)
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Optional

from cassandra.cluster import ResponseFuture, Session
from cassandra.query import Statement
from pyflink.common import Row, Time, Types
from pyflink.datastream import AsyncDataStream, AsyncFunction, DataStream, RuntimeContext

from iotlab.cassandra import (
    Store,
    can_succeed_later,
    cassandra_session,
    is_refused,
    latest_reading_values,
    window_values,
)

CAPACITY = 128  # store rows in flight per task
ATTEMPTS = 5  # per row; 0.1 s, 0.2 s, 0.4 s, 0.8 s apart: a busy or restarting node gets a few seconds
FIRST_BACKOFF_S = 0.1
NO_OPERATOR_TIMEOUT = Time.milliseconds(0)  # the driver times each request out (10 s) and we retry
# What the writer emits for each row: the row's kind, device and JSON, and ``error`` (None once the row is in
# Cassandra; why Cassandra refused it otherwise, and the job sends it to T.sink-dlq).
OUTCOME_FIELDS = ["kind", "device_id", "row", "error"]
OUTCOME_TYPE = Types.ROW_NAMED(OUTCOME_FIELDS, [Types.STRING()] * len(OUTCOME_FIELDS))


def written(value: Row) -> Row:
    """The outcome of a store row that is now in Cassandra."""
    return Row(kind=value.kind, device_id=value.device_id, row=value.row, error=None)


def refused(value: Row, error: BaseException) -> Row:
    """The outcome of a store row Cassandra refused (or that could not be bound): it goes to ``T.sink-dlq``."""
    return Row(kind=value.kind, device_id=value.device_id, row=value.row,
               error=f"{type(error).__name__}: {error}"[:500])


def statements_for(store: Store, kind: str, row: dict) -> list[Statement]:
    """The upserts that store one row, bound to its values: a window, a latest reading, or an alert (both alert
    tables, in one LOGGED batch: ``Store.alert_batch``). Raises KeyError, TypeError or ValueError for a row that
    cannot be bound (a missing field, a text where a number belongs)."""
    if kind == "window":
        return [store.insert_window.bind(window_values(row, store.window_retention_s))]
    if kind == "latest":
        return [store.upsert_latest.bind(latest_reading_values(row))]
    if kind == "alert":
        return [store.alert_batch(row)]
    raise ValueError(f"unknown store row kind {kind!r}")


def as_awaitable(future: ResponseFuture) -> asyncio.Future:
    """A driver ``ResponseFuture`` as an asyncio future of this event loop (the driver calls back from its own
    I/O thread, hence ``call_soon_threadsafe``)."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future = loop.create_future()

    def settle(outcome: Any, failed: bool) -> None:
        if result.done():  # cancelled meanwhile (the operator timed the row out)
            return
        if failed:
            result.set_exception(outcome)
        else:
            result.set_result(outcome)

    future.add_callbacks(lambda rows: loop.call_soon_threadsafe(settle, rows, False),
                         lambda error: loop.call_soon_threadsafe(settle, error, True))
    return result


class CassandraWriter(AsyncFunction):
    """Upsert store rows (kind, device_id, row as contract JSON) into the course's tables in ``keyspace``."""

    def __init__(self, keyspace: str) -> None:
        self.keyspace = keyspace
        self.session: Session | None = None
        self.store: Store | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self.session = cassandra_session()
        self.store = Store(self.session, self.keyspace)

    def close(self) -> None:
        if self.session is not None:
            self.session.cluster.shutdown()
            self.session = None

    async def async_invoke(self, value) -> list[Row]:
        try:
            statements = statements_for(self.store, value.kind, json.loads(value.row))
        except (KeyError, TypeError, ValueError) as error:  # no statement can hold this row
            return [refused(value, error)]
        for attempt in range(1, ATTEMPTS + 1):
            try:
                # a row's upserts (two for an alert) go out together; idempotent, so resending all is safe
                await asyncio.gather(*(as_awaitable(self.session.execute_async(statement))
                                       for statement in statements))
                return [written(value)]
            except Exception as error:
                if is_refused(error):
                    return [refused(value, error)]  # the same answer every time: set it aside, run on
                if not can_succeed_later(error) or attempt == ATTEMPTS:
                    raise  # fails the task: Flink restarts the job from its last checkpoint
                await asyncio.sleep(FIRST_BACKOFF_S * 2 ** (attempt - 1))
        raise AssertionError("unreachable")


def write_to_cassandra(store_rows: DataStream, keyspace: str, writer: Optional[AsyncFunction] = None) -> DataStream:
    """Add the writer after ``store_rows`` (``CassandraWriter(keyspace)`` unless ``writer`` is given, e.g. one a
    learner wrote); the result (one outcome per row, ``OUTCOME_TYPE``) needs a sink to run."""
    writer = writer if writer is not None else CassandraWriter(keyspace)
    return (AsyncDataStream.unordered_wait(store_rows, writer, NO_OPERATOR_TIMEOUT,
                                           capacity=CAPACITY, output_type=OUTCOME_TYPE)
            .name("cassandra writer").uid("cassandra-writer"))
