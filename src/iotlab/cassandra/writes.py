"""Writing rows to Cassandra: prepared, idempotent statements, three ways to send them, nothing swallowed.

- ``write_one_by_one``: one synchronous ``execute`` per row. Each row waits a full round trip before the
  next is sent: simple, and slow (the bench and notebook 08 measure how slow).
- ``write_concurrently``: the driver's ``execute_concurrent_with_args``, at most ``concurrency`` requests
  in flight. The course's default.
- ``write_async``: ``execute_async`` futures with callbacks, bounded by a semaphore: what
  ``execute_concurrent`` does for you, written out.
- ``write_partition_batches``: UNLOGGED batches, each holding rows of one partition only (a batch that
  spans partitions makes one coordinator do the work of many and is slower, not faster).
- ``write_statements_concurrently``: statements already bound, e.g. the LOGGED batch that writes an alert to both
  alert tables (``Store.alert_batch``): a logged batch is not a speed-up, it is how two denormalized tables
  that must agree get both writes or, eventually, neither.

``ttl_from_event_time`` says how long a row should live when its table keeps data for a retention counted from
the data's own time (its event time), not from the moment it is written.

Every function returns a ``WriteSummary``: how many rows were written and, for each one that failed, its
position and the error. ``raise_for_failures`` turns failures into an exception for callers that must
stop. A statement prepared with ``prepare_idempotent`` is marked safe to send again: a speculative-execution
policy may resend it, and a caller may retry it or replay a stream through it, because an upsert with the same
primary key and values leaves the same row.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable, Iterator, Optional, Sequence

from cassandra import InvalidRequest, OperationTimedOut, Timeout, Unavailable
from cassandra.cluster import NoHostAvailable, Session
from cassandra.concurrent import execute_concurrent, execute_concurrent_with_args
from cassandra.connection import ConnectionException
from cassandra.protocol import IsBootstrappingErrorMessage, OverloadedErrorMessage
from cassandra.query import BatchStatement, BatchType, PreparedStatement, Statement
from tqdm.auto import tqdm

DEFAULT_CONCURRENCY = 64  # requests in flight: enough to keep one node busy, far below its queue limits
DAY_S = 24 * 60 * 60
TTL_FLOOR_S = 7 * DAY_S  # the least a row written now lives, however old its data (see ttl_from_event_time)


def ttl_from_event_time(event_ms: int, retention_s: int, now_ms: Optional[int] = None,
                        floor_s: int = TTL_FLOOR_S) -> int:
    """Seconds a row should live (``USING TTL``) so that it expires ``retention_s`` after its event time, not
    after the write.

    Why: a table's ``default_time_to_live`` counts from the write. A replay of old data (the course replays
    readings of November 2025) would then keep every row the full retention from the replay, as though it
    were new. Here a row of data ``age`` old gets ``retention_s - age``, rounded down to the second: it
    never outlives its event time + retention.

    ``floor_s`` (a week by default): data older than the retention would get nothing, yet a row written now must
    live long enough to be read: by the notebook, the test or the dashboard that wrote it, and by a learner who
    comes back to it days later. A week is that, and far from the retention; a replay run again writes the rows
    again (the writes are idempotent).
    Bounds: never more than ``retention_s`` (data stamped in the future gets the retention, not more), and
    never less than one second, since a TTL of 0 would mean "never expires". ``now_ms``: the wall clock in
    milliseconds since the epoch (this process's clock when None).
    """
    now_ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    remaining_s = (retention_s * 1000 - (now_ms - event_ms)) // 1000
    return max(1, min(retention_s, max(floor_s, remaining_s)))


class WriteFailed(RuntimeError):
    """Some rows could not be written (after the driver's retries)."""


@dataclass
class WriteSummary:
    """What happened to every row of one write."""

    attempted: int = 0
    written: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)  # (row position, error)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def rows_per_second(self) -> float:
        return self.written / self.seconds if self.seconds else 0.0

    def counts(self) -> str:
        """What happened, without the timing: the same on every run (what a notebook prints)."""
        return f"wrote {self.written} of {self.attempted} rows, {self.failed} failed"

    def line(self) -> str:
        first = f"; first failure, row {self.failures[0][0]}: {self.failures[0][1]}" if self.failures else ""
        return f"{self.counts()}, in {self.seconds:.1f} s ({self.rows_per_second:,.0f} rows/s){first}"

    def raise_for_failures(self) -> "WriteSummary":
        """This summary, or WriteFailed naming the first failure when any row failed."""
        if self.failures:
            raise WriteFailed(self.line())
        return self


def prepare_idempotent(session: Session, cql: str) -> PreparedStatement:
    """Prepare ``cql`` once and mark it idempotent: a speculative-execution policy may then resend it, and
    callers may safely retry or replay it."""
    statement = session.prepare(cql)
    statement.is_idempotent = True
    return statement


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def write_one_by_one(session: Session, statement: PreparedStatement, rows: Sequence[Sequence[Any]],
                     progress: bool = False) -> WriteSummary:
    """One synchronous ``execute`` per row."""
    def outcomes() -> Iterator[Optional[BaseException]]:
        for values in tqdm(rows, desc="one by one", unit="row", disable=not progress):
            try:
                session.execute(statement, values)
                yield None
            except Exception as error:  # counted and reported, never dropped
                yield error

    return _tally(len(rows), outcomes())


def write_concurrently(session: Session, statement: PreparedStatement, rows: Sequence[Sequence[Any]],
                       concurrency: int = DEFAULT_CONCURRENCY) -> WriteSummary:
    """All rows through ``execute_concurrent_with_args``, at most ``concurrency`` in flight."""
    def outcomes() -> Iterator[Optional[BaseException]]:
        for success, result in execute_concurrent_with_args(session, statement, rows, concurrency=concurrency,
                                                            raise_on_first_error=False, results_generator=True):
            yield None if success else result

    return _tally(len(rows), outcomes())


def write_statements_concurrently(session: Session, statements: Sequence[Statement],
                                  concurrency: int = DEFAULT_CONCURRENCY) -> WriteSummary:
    """Statements already bound (a batch each, for example), at most ``concurrency`` in flight."""
    def outcomes() -> Iterator[Optional[BaseException]]:
        for success, result in execute_concurrent(session, [(statement, None) for statement in statements],
                                                  concurrency=concurrency, raise_on_first_error=False,
                                                  results_generator=True):
            yield None if success else result

    return _tally(len(statements), outcomes())


def _tally(attempted: int, outcomes: Iterable[Optional[BaseException]]) -> WriteSummary:
    """Count each row's outcome (None: written; else its error, with the row's position), timing the writes:
    ``outcomes`` is a generator that sends each row as it is asked for the next outcome."""
    summary = WriteSummary(attempted=attempted)
    started = time.perf_counter()
    for position, error in enumerate(outcomes):
        if error is None:
            summary.written += 1
        else:
            summary.failures.append((position, _error_text(error)))
    summary.seconds = time.perf_counter() - started
    return summary


def write_async(session: Session, statement: PreparedStatement, rows: Sequence[Sequence[Any]],
                in_flight: int = DEFAULT_CONCURRENCY) -> WriteSummary:
    """``execute_async`` per row, a semaphore keeping at most ``in_flight`` requests open."""
    summary = WriteSummary(attempted=len(rows))
    slots = threading.Semaphore(in_flight)
    lock = threading.Lock()
    done = threading.Event()
    outstanding = [len(rows)]

    def finished(position: int, error: BaseException | None = None) -> None:
        with lock:
            if error is None:
                summary.written += 1
            else:
                summary.failures.append((position, _error_text(error)))
            outstanding[0] -= 1
            if outstanding[0] == 0:
                done.set()
        slots.release()

    started = time.perf_counter()
    if not rows:
        done.set()
    for position, values in enumerate(rows):
        slots.acquire()  # wait for a free slot: never more than in_flight requests open
        future = session.execute_async(statement, values)
        future.add_callbacks(lambda _result, p=position: finished(p),
                             lambda error, p=position: finished(p, error))
    done.wait()
    summary.failures.sort()
    summary.seconds = time.perf_counter() - started
    return summary


def write_partition_batches(session: Session, statement: PreparedStatement, rows: Sequence[Sequence[Any]],
                            partition_of: Callable[[Sequence[Any]], Hashable], rows_per_batch: int = 50,
                            concurrency: int = DEFAULT_CONCURRENCY) -> WriteSummary:
    """UNLOGGED batches of at most ``rows_per_batch`` rows, each within one partition, sent concurrently.

    ``partition_of(values)`` gives a row's partition key (e.g. ``lambda v: (v[0], v[1])``). A failed batch
    counts all of its rows as failed.
    """
    by_partition: dict[Hashable, list[int]] = defaultdict(list)
    for position, values in enumerate(rows):
        by_partition[partition_of(values)].append(position)
    groups = [positions[start:start + rows_per_batch] for positions in by_partition.values()
              for start in range(0, len(positions), rows_per_batch)]
    summary = WriteSummary(attempted=len(rows))
    started = time.perf_counter()
    batches, sent_groups = [], []
    for positions in groups:
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        try:
            for position in positions:
                batch.add(statement, rows[position])
        except Exception as error:  # values the driver cannot even encode: the whole batch fails
            summary.failures.extend((position, _error_text(error)) for position in positions)
            continue
        batch.is_idempotent = True
        batches.append((batch, ()))
        sent_groups.append(positions)
    outcomes = execute_concurrent(session, batches, concurrency=concurrency, raise_on_first_error=False)
    for positions, (success, result) in zip(sent_groups, outcomes):
        if success:
            summary.written += len(positions)
        else:
            summary.failures.extend((position, _error_text(result)) for position in positions)
    summary.failures.sort()
    summary.seconds = time.perf_counter() - started
    return summary


def insert_rows(session: Session, table: str, rows: list[dict]) -> int:
    """Upsert ``rows`` (dicts with the same keys) into ``table``, concurrently; return how many were written.

    Cassandra's INSERT is an upsert: running it twice with the same primary keys leaves the same table,
    which is what makes a re-run notebook (or a replayed stream) idempotent. Raises WriteFailed if any
    row could not be written.
    """
    if not rows:
        return 0
    columns = list(rows[0])
    statement = prepare_idempotent(
        session, f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})")
    # pandas hands out numpy scalars; the driver wants plain Python numbers.
    values = [[row[column].item() if hasattr(row[column], "item") else row[column] for column in columns]
              for row in rows]
    return write_concurrently(session, statement, values).raise_for_failures().written


# ----------------------------------------------------------------------------- which failures to retry

# Failures that can succeed later: the node was slow, busy, starting or out of reach, and the same request sent
# again may go through (the course's writes are idempotent upserts, so sending one twice is safe).
RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (
    Timeout,  # ReadTimeout, WriteTimeout: the coordinator did not hear from enough replicas in time
    Unavailable,  # the coordinator knew too few replicas were alive to meet the consistency level
    OperationTimedOut,  # the driver gave up waiting for the coordinator's answer
    NoHostAvailable,  # no node could be reached at all
    ConnectionException,  # a connection closed or was busy
    OverloadedErrorMessage,  # the node sheds load
    IsBootstrappingErrorMessage,  # the node is still joining
)
# Failures that never succeed: Cassandra refuses the request itself (a null primary key column, a wrong type).
# Sending it again gives the same answer, so the row is set aside (a dead-letter topic) instead.
REFUSED_ERRORS: tuple[type[BaseException], ...] = (InvalidRequest,)


def can_succeed_later(error: BaseException) -> bool:
    """True for a failure worth retrying (``RETRYABLE_ERRORS``), False for any other."""
    return isinstance(error, RETRYABLE_ERRORS)


def is_refused(error: BaseException) -> bool:
    """True when Cassandra refused the request itself (``REFUSED_ERRORS``): retrying it cannot help."""
    return isinstance(error, REFUSED_ERRORS)
