"""Notebook 08 (Cassandra from Python): a concurrent idempotent loader, paging by hand, and a time range
read across day buckets. The checks run against the lab's real node, in the scratch keyspace
``iotlab_check_nb08``, and watch the calls the learner's code makes on the session."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pandas as pd
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.query import SimpleStatement

from iotlab.core.timestamps import utc_days
from iotlab.course.checks import CheckResult, allows_filtering, error_reason, failed, is_skipped, passed, skipped

CHECK_KEYSPACE = "iotlab_check_nb08"
START = datetime(2025, 11, 5, 20, 0, tzinfo=timezone.utc)


class WatchedSession:
    """A real session that counts the calls made through it: how the check tells one synchronous ``execute``
    per row from the driver's concurrent execution (the most requests ever in flight at once), a paged read from
    one that fetched everything, and a range read from one that fetched whole partitions (the rows each
    synchronous query returns, counted by running it again)."""

    def __init__(self, session) -> None:
        self._session = session
        self.execute_calls: list[dict] = []
        self.queries: list[str] = []
        self.async_calls = 0
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()

    def execute(self, query, parameters=None, *args: Any, **kwargs: Any):
        self.execute_calls.append({"paging_state": kwargs.get("paging_state"), "parameters": parameters,
                                   "fetch_size": getattr(query, "fetch_size", None), "query": query})
        self.queries.append(query if isinstance(query, str) else getattr(query, "query_string", str(query)))
        return self._session.execute(query, parameters, *args, **kwargs)

    def execute_async(self, *args: Any, **kwargs: Any):
        with self._lock:
            self.async_calls += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        future = self._session.execute_async(*args, **kwargs)

        def landed(_: Any) -> None:
            with self._lock:
                self.in_flight -= 1

        future.add_callbacks(landed, landed)
        return future

    def rows_fetched(self) -> int:
        """How many rows the synchronous queries made so far return (each run again, unpaged)."""
        return sum(len(list(self._session.execute(call["query"], call["parameters"]))) for call in self.execute_calls)

    def __getattr__(self, name: str):
        return getattr(self._session, name)


def _scratch_store(session):
    """The course's schema in the scratch keyspace, every table empty."""
    from iotlab.cassandra import TABLES, Store, create_schema

    create_schema(session, CHECK_KEYSPACE)
    for table in TABLES:
        session.execute(f"TRUNCATE {CHECK_KEYSPACE}.{table}", timeout=60)
    return Store(session, CHECK_KEYSPACE)


def _windows(devices: int, hours: int) -> list[dict]:
    """5-minute windows of ``devices`` devices for ``hours`` hours from 20:00 UTC (across midnight)."""
    return [{"device_id": f"device-{device:02d}", "window_start": START + timedelta(minutes=5 * step),
             "window_end": START + timedelta(minutes=5 * step + 5), "count": 5, "avg_temp": 20 + step / 10 + device,
             "min_temp": 19.0, "max_temp": 25.0, "avg_humidity": 40.0}
            for device in range(1, devices + 1) for step in range(hours * 12)]


# ----------------------------------------------------------------------------- 08.1 a concurrent loader


def load_rows(session, statement, rows: list) -> tuple[int, list[int]]:
    """Reference for 08.1: every row through ``execute_concurrent_with_args``; (rows written, positions of
    the rows that failed)."""
    outcomes = execute_concurrent_with_args(session, statement, rows, concurrency=64, raise_on_first_error=False)
    failed_positions = [position for position, (success, _) in enumerate(outcomes) if not success]
    return len(rows) - len(failed_positions), failed_positions


def check_load_rows(function: Callable) -> CheckResult:
    """Check 08.1: load 600 window rows (two of them broken) twice; the table must be the same after each run,
    the broken rows reported by position, and the writes sent concurrently."""
    from iotlab.cassandra import WINDOWS_TABLE, closing_session, window_values

    name = "load_rows"
    if is_skipped(function, (None, None, [])):
        return skipped(name)
    with closing_session() as session:
        store = _scratch_store(session)
        rows = [list(window_values(window)) for window in _windows(devices=5, hours=10)]
        broken = [57, 401]
        for position in broken:
            rows[position][0] = None  # no device id: the node refuses these rows
        contents = []
        for run in (1, 2):
            watched = WatchedSession(session)
            try:
                written, failures = function(watched, store.insert_window, rows)
            except Exception as error:
                return failed(name, f"run {run} raised {type(error).__name__}: {error_reason(error)}. Hint: "
                                    "raise_on_first_error=False, and count the failures instead of raising")
            if watched.async_calls == 0:
                return failed(name, "no request went through the driver's asynchronous path. Hint: "
                                    "execute_concurrent_with_args(session, statement, rows, concurrency=64, "
                                    "raise_on_first_error=False)")
            if watched.most_in_flight < 2:
                return failed(name, f"{watched.async_calls} asynchronous requests, but never two in flight at once: "
                                    "each was awaited (.result()) before the next was sent, one round trip per row "
                                    "again. Hint: execute_concurrent_with_args keeps up to `concurrency` in flight")
            if len(watched.execute_calls) >= len(rows) // 2:
                return failed(name, f"{len(watched.execute_calls)} synchronous execute calls for {len(rows)} rows: one "
                                    "round trip per row. Hint: execute_concurrent_with_args(session, statement, rows, "
                                    "concurrency=64, raise_on_first_error=False)")
            if (written, sorted(failures)) != (len(rows) - len(broken), broken):
                return failed(name, f"run {run}: returned ({written}, {sorted(failures)[:5]}), expected "
                                    f"({len(rows) - len(broken)}, {broken}). Hint: the i-th outcome belongs to the "
                                    "i-th row; success is its first element")
            contents.append(sorted(tuple(row) for row in session.execute(
                f"SELECT * FROM {CHECK_KEYSPACE}.{WINDOWS_TABLE}")))
        if contents[0] != contents[1] or len(contents[0]) != len(rows) - len(broken):
            return failed(name, f"the table holds {len(contents[0])} rows after the first run and {len(contents[1])} "
                                "after the second: loading again must leave the same table")
        return passed(name, f"{len(rows) - len(broken)} rows written concurrently, the {len(broken)} bad ones "
                            "reported by position, and a second load left the table unchanged")


# ----------------------------------------------------------------------------- 08.2 paging by hand


def read_in_pages(session, cql: str, parameters: tuple, page_size: int) -> tuple[list, int]:
    """Reference for 08.2: every row of the query, fetched ``page_size`` at a time, resuming each page from the
    previous one's paging state; (rows, pages fetched)."""
    statement = SimpleStatement(cql, fetch_size=page_size)
    rows, pages, paging_state = [], 0, None
    while True:
        result = session.execute(statement, parameters, paging_state=paging_state)
        rows.extend(result.current_rows)
        pages += 1
        paging_state = result.paging_state
        if paging_state is None:
            return rows, pages


def check_read_in_pages(function: Callable) -> CheckResult:
    """Check 08.2: 288 windows of one partition, read 100 at a time: 3 calls, the last two resuming."""
    from iotlab.cassandra import WINDOWS_TABLE, closing_session

    name = "read_in_pages"
    if is_skipped(function, (None, "", (), 1)):
        return skipped(name)
    with closing_session() as session:
        store = _scratch_store(session)
        store.write_windows(_windows(devices=2, hours=28)).raise_for_failures()
        cql = f"SELECT window_start, avg_temp FROM {CHECK_KEYSPACE}.{WINDOWS_TABLE} WHERE device_id = %s AND day = %s"
        parameters = ("device-02", (START + timedelta(days=1)).date())
        expected = [tuple(row) for row in session.execute(SimpleStatement(cql, fetch_size=None), parameters)]
        for page_size in (100, 288, 500):
            watched = WatchedSession(session)
            try:
                rows, pages = function(watched, cql, parameters, page_size)
            except Exception as error:
                return failed(name, f"raised {type(error).__name__}: {error_reason(error)}")
            at_least = -(-len(expected) // page_size)  # ceil; one more when the last page is exactly full
            calls = watched.execute_calls
            if [tuple(row) for row in rows] != expected:
                return failed(name, f"page size {page_size}: {len(rows)} rows, expected the query's {len(expected)} "
                                    "in the same order. Hint: add each page's result.current_rows")
            if len(calls) != pages or any(call["fetch_size"] != page_size for call in calls):
                return failed(name, f"page size {page_size}: {len(calls)} execute calls for {pages} pages reported, "
                                    "or a statement without fetch_size. Hint: one execute per page, on "
                                    "SimpleStatement(cql, fetch_size=page_size)")
            if not at_least <= pages <= at_least + 1:
                return failed(name, f"page size {page_size}: {pages} pages for {len(expected)} rows. Hint: stop "
                                    "when result.paging_state is None")
            if calls[0]["paging_state"] is not None or any(call["paging_state"] is None for call in calls[1:]):
                return failed(name, "every page after the first must resume from the previous one: "
                                    "session.execute(statement, parameters, paging_state=previous.paging_state)")
        return passed(name, f"{len(expected)} rows read 100, 288 and 500 at a time, each page resuming the last")


# ----------------------------------------------------------------------------- 08.3 a range across day buckets


def windows_between(session, keyspace: str, device_id: str, start: datetime, end: datetime) -> pd.DataFrame:
    """Reference for 08.3: the device's windows starting in [start, end), oldest first."""
    from iotlab.cassandra import Store

    return Store(session, keyspace).device_windows(device_id, start, end)


WINDOWS_BETWEEN_COLUMNS = ("window_start", "avg_temp", "min_temp", "max_temp")  # what the notebook plots after

RANGE_CASES = [
    ("within one day", timedelta(hours=1), timedelta(hours=2)),
    ("across midnight", timedelta(hours=3, minutes=30), timedelta(hours=5)),
    ("ending exactly at midnight", timedelta(hours=2), timedelta(hours=4)),
    ("starting exactly at midnight", timedelta(hours=4), timedelta(hours=4, minutes=20)),
    ("three days", timedelta(hours=-1), timedelta(hours=30)),
    ("nothing there", timedelta(days=5), timedelta(days=6)),
]


def check_windows_between(function: Callable) -> CheckResult:
    """Check 08.3: ranges within a day, across midnight, ending or starting at midnight, over three days."""
    from iotlab.cassandra import closing_session, naive_time_columns

    name = "windows_between"
    if is_skipped(function, (None, CHECK_KEYSPACE, "d", START, START)):
        return skipped(name)
    with closing_session() as session:
        store = _scratch_store(session)
        store.write_windows(_windows(devices=2, hours=30)).raise_for_failures()  # 20:00 to 02:00 two days later
        for case, begin, end in RANGE_CASES:
            start, finish = START + begin, START + end
            watched = WatchedSession(session)
            try:
                frame = function(watched, CHECK_KEYSPACE, "device-02", start, finish)
            except Exception as error:
                return failed(name, f"case '{case}' raised {type(error).__name__}: {error_reason(error)}")
            days = len(utc_days(start, finish))
            if any(allows_filtering(query) for query in watched.queries):
                return failed(name, f"case '{case}': a query with ALLOW FILTERING scans every partition. Hint: name "
                                    "device_id and day in each query, one query per day")
            if len(watched.execute_calls) != days:
                return failed(name, f"case '{case}': {len(watched.execute_calls)} queries for a range over {days} "
                                    "day(s). Hint: one query per day in utc_days(start, end), each naming device_id "
                                    "and day")
            expected = store.device_windows("device-02", start, finish)
            naive = [] if frame is None else naive_time_columns(frame)
            if naive:
                return failed(name, f"case '{case}': {naive[0]} holds naive times; the next cells compare them with "
                                    "UTC datetimes, which pandas refuses. Hint: build the frame with "
                                    "iotlab.cassandra.query_frame (its timestamps are UTC-aware), or convert with "
                                    "pd.to_datetime(frame[column], utc=True)")
            missing = [] if frame is None else [column for column in WINDOWS_BETWEEN_COLUMNS if column not in frame]
            if missing:
                return failed(name, f"case '{case}': the frame has no column {', '.join(missing)}; the plot after the "
                                    f"check draws them. Hint: select at least {', '.join(WINDOWS_BETWEEN_COLUMNS)}")
            got = [] if frame is None or frame.empty else list(pd.to_datetime(frame["window_start"], utc=True))
            want = [] if expected.empty else list(expected["window_start"])
            fetched = watched.rows_fetched()
            if fetched > len(want):
                return failed(name, f"case '{case}': the queries fetched {fetched} windows for the {len(want)} in the "
                                    "range: whole day partitions, filtered afterwards. Hint: let Cassandra cut the "
                                    "range (window_start >= %s AND window_start < %s in each day's query); a partition "
                                    "of a year of windows would cross the network whole")
            if got != want and sorted(got) == want:
                return failed(name, f"case '{case}': the right {len(got)} windows, not oldest first. Hint: each day's "
                                    "partition is stored newest first (window_start DESC): sort the frame by "
                                    "window_start")
            if got != want:
                return failed(name, f"case '{case}': {len(got)} windows, expected {len(want)} (first expected: "
                                    f"{want[0] if want else 'none'}). Hint: one query per UTC day the range touches "
                                    "(iotlab.core.utc_days), window_start >= start AND < end, then sort oldest first")
        return passed(name, f"all {len(RANGE_CASES)} ranges right, across day buckets")


# ----------------------------------------------------------------------------- 08.4 read your own writes

LEVEL_NAMES = ("ONE", "TWO", "THREE", "QUORUM", "ALL")
RYW_KEYSPACE_RF1 = "iotlab_check_nb08_rf1"  # replication factor 1, whatever the lab's node count
RYW_KEYSPACE_RF3 = "iotlab_check_nb08_rf3"  # replication factor 3: two replicas missing on the one-node lab
RYW_CASES = [(1, 0), (3, 0), (3, 1), (3, 2), (5, 1), (5, 2), (5, 3)]


def replicas_waited_for(level: str, replication_factor: int) -> int:
    """How many replicas a request at ``level`` waits for (QUORUM: a majority, RF // 2 + 1)."""
    return {"ONE": 1, "TWO": 2, "THREE": 3, "QUORUM": replication_factor // 2 + 1,
            "ALL": replication_factor}[level]


def read_your_writes(replication_factor: int, nodes_down: int):
    """Reference for 08.4: the (write level, read level) that lets a read see every acknowledged write while
    ``nodes_down`` replicas are down, or None when no pair can. Both must be answerable by the replicas alive, and
    together they must overlap: W + R > RF. QUORUM for both tolerates the most nodes down."""
    alive = replication_factor - nodes_down
    quorum = replicas_waited_for("QUORUM", replication_factor)
    return ("QUORUM", "QUORUM") if quorum <= alive else None


def _ryw_verdict(answer, replication_factor: int, nodes_down: int):
    """Why ``answer`` is wrong for (RF, nodes down), or None when it is right."""
    alive = replication_factor - nodes_down
    possible = read_your_writes(replication_factor, nodes_down) is not None
    where = f"RF {replication_factor}, {nodes_down} down"
    if answer is None:
        return None if not possible else (f"{where}: a pair exists (both levels within the {alive} replicas alive, "
                                           f"and overlapping); None is for when none does")
    if not (isinstance(answer, tuple) and len(answer) == 2 and all(level in LEVEL_NAMES for level in answer)):
        return f"{where}: answer a (write level, read level) pair of {', '.join(LEVEL_NAMES)}, or None; got {answer!r}"
    write, read = (replicas_waited_for(level, replication_factor) for level in answer)
    for level, needed in zip(answer, (write, read)):
        if needed > alive:
            return (f"{where}: {level} waits for {needed} replicas and only {alive} are alive: the node answers "
                    "Unavailable" + ("" if possible else "; with this many down no pair works: return None"))
    if write + read <= replication_factor:
        return (f"{where}: {answer[0]} writes reach {write} replicas and {answer[1]} reads ask {read}: "
                f"{write} + {read} <= {replication_factor}, so a read may ask only replicas that missed the write")
    return None


def check_read_your_writes(function: Callable) -> CheckResult:
    """Check 08.4: every case by the overlap rule, then on the real node: the learner's levels for RF 1 write and
    read back a row; a keyspace of RF 3 on this one node (two replicas missing) refuses every level above ONE."""
    from cassandra import ConsistencyLevel, Unavailable
    from cassandra.cluster import NoHostAvailable

    from iotlab.cassandra import closing_session, ensure_keyspace
    from iotlab.core.topology import recorded_nodes

    name = "read_your_writes"
    if is_skipped(function, (1, 0)):
        return skipped(name)
    answers = {}
    for replication_factor, nodes_down in RYW_CASES:
        try:
            answers[replication_factor, nodes_down] = function(replication_factor, nodes_down)
        except Exception as error:
            return failed(name, f"RF {replication_factor}, {nodes_down} down raised {type(error).__name__}: {error}")
        wrong = _ryw_verdict(answers[replication_factor, nodes_down], replication_factor, nodes_down)
        if wrong:
            return failed(name, wrong)

    def run(session, cql: str, level: str, parameters=()):
        statement = SimpleStatement(cql, consistency_level=getattr(ConsistencyLevel, level))
        return session.execute(statement, parameters)

    nodes = recorded_nodes()
    with closing_session() as session:
        ensure_keyspace(session, RYW_KEYSPACE_RF1, replication_factor=1)
        table = f"{RYW_KEYSPACE_RF1}.read_your_writes"
        session.execute(f"CREATE TABLE IF NOT EXISTS {table} (k text PRIMARY KEY, v int)", timeout=60)
        write, read = answers[1, 0]
        run(session, f"INSERT INTO {table} (k, v) VALUES ('mine', %s)", write, (42,))
        row = run(session, f"SELECT v FROM {table} WHERE k = 'mine'", read).one()
        if row is None or row.v != 42:
            return failed(name, f"on the node (RF 1), a write at {write} then a read at {read} did not read it back")
        session.execute(f"CREATE KEYSPACE IF NOT EXISTS {RYW_KEYSPACE_RF3} WITH replication = "
                        "{'class': 'SimpleStrategy', 'replication_factor': 3}", timeout=60)
        rf3 = f"{RYW_KEYSPACE_RF3}.read_your_writes"
        session.execute(f"CREATE TABLE IF NOT EXISTS {rf3} (k text PRIMARY KEY, v int)", timeout=60)
        refused = []
        for level in ("TWO", "QUORUM", "ALL"):
            try:
                run(session, f"INSERT INTO {rf3} (k, v) VALUES ('mine', 1)", level)
            except (Unavailable, NoHostAvailable):
                refused.append(level)
        if nodes == 3:  # the three-node lab: every replica is there, every level is served
            if refused:
                return failed(name, f"the three-node lab refused {refused} on a keyspace of RF 3: is a node down? "
                                    "(`iotlab lab status`; `iotlab lab up` starts it)")
            return passed(name, f"{len(RYW_CASES)} cases overlap (W + R > RF) within the replicas alive; on the lab: "
                                f"RF 1 reads back its write at {write}/{read}, and RF 3 on three nodes serves TWO, "
                                "QUORUM and ALL")
        if refused != ["TWO", "QUORUM", "ALL"]:
            return failed(name, f"the node accepted writes above ONE with two of three replicas missing ({refused} "
                                "refused): is this the course's one-node lab?")
    return passed(name, f"{len(RYW_CASES)} cases overlap (W + R > RF) within the replicas alive; on the node: RF 1 "
                        f"reads back its write at {write}/{read}, and RF 3 with two replicas missing refuses TWO, "
                        "QUORUM and ALL, so no pair gives read-your-writes there")
