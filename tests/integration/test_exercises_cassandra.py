"""Notebooks 07 and 08: every check passes its reference, skips a stub, and fails wrong answers, against the
lab's real Cassandra node."""

from __future__ import annotations

import pytest
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.query import SimpleStatement

from iotlab.cassandra import Store
from iotlab.course.exercises import nb07, nb08


def stub(*_args):
    raise NotImplementedError()


# ----------------------------------------------------------------------------- 07.1 largest_bucket


def test_largest_bucket_reference_passes_and_stub_is_skipped():
    assert nb07.check_largest_bucket(nb07.largest_bucket).passed
    assert nb07.check_largest_bucket(stub).skipped


def strictly_below(interval_s, row_bytes, limit_bytes):
    best = "none"
    for bucket, hours in nb07.BUCKETS_HOURS.items():
        if (hours * 3600 // interval_s) * row_bytes < limit_bytes:
            best = bucket
    return best


def rows_not_bytes(interval_s, row_bytes, limit_bytes):
    return nb07.largest_bucket(interval_s, 1, limit_bytes)


@pytest.mark.parametrize("wrong", [strictly_below, rows_not_bytes, lambda *_: "day"])
def test_largest_bucket_wrong_answers_fail(wrong):
    result = nb07.check_largest_bucket(wrong)
    assert not result.passed and not result.skipped


# ----------------------------------------------------------------------------- 07.2 readings_table_cql


def test_readings_table_reference_passes_and_stub_is_skipped(lab_settings):
    assert nb07.check_readings_table(nb07.readings_table_cql).passed
    assert nb07.check_readings_table(stub).skipped


def whole_history(table):
    return (nb07.readings_table_cql(table).replace("PRIMARY KEY ((device_id, day), reading_at)",
                                                   "PRIMARY KEY (device_id, day, reading_at)")
            .replace("ORDER BY (reading_at DESC)", "ORDER BY (day DESC, reading_at DESC)"))


def oldest_first(table):
    return nb07.readings_table_cql(table).replace(" WITH CLUSTERING ORDER BY (reading_at DESC)", "")


def reading_in_partition_key(table):
    return (nb07.readings_table_cql(table).replace("PRIMARY KEY ((device_id, day), reading_at)",
                                                   "PRIMARY KEY ((device_id, day, reading_at))")
            .replace(" WITH CLUSTERING ORDER BY (reading_at DESC)", ""))


def fleet_day(table):
    return (nb07.readings_table_cql(table).replace("PRIMARY KEY ((device_id, day), reading_at)",
                                                   "PRIMARY KEY ((day), device_id, reading_at)")
            .replace("ORDER BY (reading_at DESC)", "ORDER BY (device_id ASC, reading_at DESC)"))


def text_times(table):
    return nb07.readings_table_cql(table).replace("reading_at  timestamp", "reading_at  text")


@pytest.mark.parametrize("wrong", [whole_history, oldest_first, reading_in_partition_key, fleet_day, text_times])
def test_readings_table_wrong_answers_fail(lab_settings, wrong):
    result = nb07.check_readings_table(wrong)
    assert not result.passed and not result.skipped


def test_readings_table_names_the_unbounded_partition(lab_settings):
    result = nb07.check_readings_table(whole_history)
    assert "grows forever" in result.message


# ----------------------------------------------------------------------------- 07.3 alerts_of_kind_cql


def test_alerts_of_kind_reference_passes_and_stub_is_skipped(lab_settings):
    assert nb07.check_alerts_of_kind(nb07.alerts_of_kind_cql).passed
    assert nb07.check_alerts_of_kind(stub).skipped


@pytest.mark.parametrize("wrong", [
    lambda table: nb07.alerts_of_kind_cql(table) + " ALLOW FILTERING",
    lambda table: nb07.alerts_of_kind_cql(table) + " ALLOW  FILTERING",
    lambda table: nb07.alerts_of_kind_cql(table) + "\nallow\n  filtering",
    lambda table: nb07.alerts_of_kind_cql(table) + " ALLOW /* no scan, promise */ FILTERING",
    lambda table: f"SELECT alert_at, device_id, kind FROM {table} WHERE kind = %s AND day = %s",
    lambda table: f"SELECT alert_at, device_id, kind FROM {table} WHERE day = %s AND kind > %s",
])
def test_alerts_of_kind_wrong_answers_fail(lab_settings, wrong):
    result = nb07.check_alerts_of_kind(wrong)
    assert not result.passed and not result.skipped


def test_alerts_of_kind_with_order_by_is_told_the_servers_reason_and_the_clustering_order(lab_settings):
    result = nb07.check_alerts_of_kind(lambda table: nb07.alerts_of_kind_cql(table) + " ORDER BY alert_at DESC")
    assert not result.passed and not result.skipped
    assert "Cassandra refused the query" in result.message and "ORDER BY" in result.message.split("Hint:")[0]
    assert "clustering order" in result.message.split("Hint:")[1]


# ----------------------------------------------------------------------------- 07.4 alerts_table_cql
ALERTS_KEY = "PRIMARY KEY ((day, bucket), alert_at, device_id, kind, quantity)"
ALERTS_ORDER = " WITH CLUSTERING ORDER BY (alert_at DESC, device_id ASC, kind ASC, quantity ASC)"


def alerts_table_with(key: str, order: str = ALERTS_ORDER):
    return lambda table: nb07.alerts_table_cql(table).replace(ALERTS_KEY, key).replace(ALERTS_ORDER, order)


def test_alerts_table_reference_passes_and_stub_is_skipped(lab_settings):
    assert nb07.check_alerts_table(nb07.alerts_table_cql).passed
    assert nb07.check_alerts_table(stub).skipped


@pytest.mark.parametrize("wrong, rule", [
    (alerts_table_with("PRIMARY KEY (day, alert_at, bucket, device_id, kind, quantity)",
                       " WITH CLUSTERING ORDER BY (alert_at DESC, bucket ASC, device_id ASC, kind ASC, quantity ASC)"),
     "day alone"),
    (alerts_table_with("PRIMARY KEY ((day, bucket), alert_at, device_id, kind)",
                       " WITH CLUSTERING ORDER BY (alert_at DESC, device_id ASC, kind ASC)"), "overwrote"),
    (alerts_table_with("PRIMARY KEY ((day, bucket), alert_at)", " WITH CLUSTERING ORDER BY (alert_at DESC)"),
     "overwrote"),
    (alerts_table_with(ALERTS_KEY, ""), "newest first"),
    (alerts_table_with("PRIMARY KEY ((day, bucket), device_id, alert_at, kind, quantity)",
                       " WITH CLUSTERING ORDER BY (device_id ASC, alert_at DESC, kind ASC, quantity ASC)"),
     "cluster by alert_at first"),
    (alerts_table_with("PRIMARY KEY ((day, bucket), alert_at, device_id, kind, quantity, score)",
                       " WITH CLUSTERING ORDER BY (alert_at DESC, device_id ASC, kind ASC, quantity ASC, score DESC)"),
     "corrected score"),
    (alerts_table_with("PRIMARY KEY ((day, bucket, device_id), alert_at, kind, quantity)",
                       " WITH CLUSTERING ORDER BY (alert_at DESC, kind ASC, quantity ASC)"), "partition key is"),
])
def test_alerts_table_wrong_answers_fail_with_the_rule_they_broke(lab_settings, wrong, rule):
    result = nb07.check_alerts_table(wrong)
    assert not result.passed and not result.skipped
    assert rule in result.message, result.message


# ----------------------------------------------------------------------------- 08.1 load_rows


def test_load_rows_reference_passes_and_stub_is_skipped(lab_settings):
    assert nb08.check_load_rows(nb08.load_rows).passed
    assert nb08.check_load_rows(stub).skipped


def one_by_one(session, statement, rows):
    failures = []
    for position, row in enumerate(rows):
        try:
            session.execute(statement, row)
        except Exception:
            failures.append(position)
    return len(rows) - len(failures), failures


def stops_at_first_error(session, statement, rows):
    execute_concurrent_with_args(session, statement, rows)
    return len(rows), []


def reports_nothing(session, statement, rows):
    execute_concurrent_with_args(session, statement, rows, raise_on_first_error=False)
    return len(rows), []


def serial_async(session, statement, rows):
    """execute_async for every row, each awaited with .result() before the next is sent: one at a time again."""
    failures = []
    for position, row in enumerate(rows):
        try:
            session.execute_async(statement, row).result()
        except Exception:
            failures.append(position)
    return len(rows) - len(failures), failures


@pytest.mark.parametrize("wrong", [one_by_one, stops_at_first_error, reports_nothing, serial_async])
def test_load_rows_wrong_answers_fail(lab_settings, wrong):
    result = nb08.check_load_rows(wrong)
    assert not result.passed and not result.skipped


# ----------------------------------------------------------------------------- 08.2 read_in_pages


def test_read_in_pages_reference_passes_and_stub_is_skipped(lab_settings):
    assert nb08.check_read_in_pages(nb08.read_in_pages).passed
    assert nb08.check_read_in_pages(stub).skipped


def all_at_once(session, cql, parameters, page_size):
    rows = list(session.execute(SimpleStatement(cql, fetch_size=page_size), parameters))
    return rows, -(-len(rows) // page_size)


def first_page_only(session, cql, parameters, page_size):
    result = session.execute(SimpleStatement(cql, fetch_size=page_size), parameters)
    return list(result.current_rows), 1


def restarts_every_page(session, cql, parameters, page_size):
    rows, pages = [], 0
    statement = SimpleStatement(cql, fetch_size=page_size)
    total = len(list(session.execute(SimpleStatement(cql, fetch_size=None), parameters)))
    while len(rows) < total:
        rows.extend(session.execute(statement, parameters).current_rows)
        pages += 1
    return rows[:total], pages


@pytest.mark.parametrize("wrong", [all_at_once, first_page_only, restarts_every_page])
def test_read_in_pages_wrong_answers_fail(lab_settings, wrong):
    result = nb08.check_read_in_pages(wrong)
    assert not result.passed and not result.skipped


# ----------------------------------------------------------------------------- 08.3 windows_between


def test_windows_between_reference_passes_and_stub_is_skipped(lab_settings):
    assert nb08.check_windows_between(nb08.windows_between).passed
    assert nb08.check_windows_between(stub).skipped


def first_day_only(session, keyspace, device_id, start, end):
    store = Store(session, keyspace)
    return store.frame(f"SELECT * FROM {keyspace}.windows_by_device_day WHERE device_id = %s AND day = %s "
                       "AND window_start >= %s AND window_start < %s", (device_id, start.date(), start, end))


def end_inclusive(session, keyspace, device_id, start, end):
    from datetime import timedelta

    return nb08.windows_between(session, keyspace, device_id, start, end + timedelta(milliseconds=1))


def newest_first(session, keyspace, device_id, start, end):
    frame = nb08.windows_between(session, keyspace, device_id, start, end)
    return frame.iloc[::-1] if not frame.empty else frame


def scan_with(name: str, clause: str):
    """Right rows, from one query that scans every partition, ending with ``clause`` (ALLOW FILTERING, spelled
    some way)."""
    def scan(session, keyspace, device_id, start, end):
        import pandas as pd

        rows = session.execute(f"SELECT window_start, avg_temp FROM {keyspace}.windows_by_device_day "
                               f"WHERE device_id = %s AND window_start >= %s AND window_start < %s {clause}",
                               (device_id, start, end))
        frame = pd.DataFrame(list(rows), columns=["window_start", "avg_temp"])
        frame["window_start"] = pd.to_datetime(frame["window_start"], utc=True)
        return frame.sort_values("window_start").reset_index(drop=True)

    scan.__name__ = name
    return scan


allow_filtering_scan = scan_with("allow_filtering_scan", "ALLOW FILTERING")
allow_filtering_over_two_lines = scan_with("allow_filtering_over_two_lines", "ALLOW\n   FILTERING")


def filtered_in_pandas(session, keyspace, device_id, start, end):
    """Right rows: every day partition read whole, the range cut afterwards in pandas."""
    from iotlab.core import utc_days

    store = Store(session, keyspace)
    frames = [store.frame(f"SELECT * FROM {keyspace}.windows_by_device_day WHERE device_id = %s AND day = %s",
                          (device_id, day)) for day in utc_days(start, end)]
    import pandas as pd

    frame = pd.concat([f for f in frames if not f.empty] or [pd.DataFrame(columns=["window_start"])])
    if frame.empty:
        return frame
    frame = frame[(frame["window_start"] >= start) & (frame["window_start"] < end)]
    return frame.sort_values("window_start").reset_index(drop=True)


@pytest.mark.parametrize("wrong", [first_day_only, end_inclusive, newest_first, allow_filtering_scan,
                                   filtered_in_pandas, allow_filtering_over_two_lines])
def test_windows_between_wrong_answers_fail(lab_settings, wrong):
    result = nb08.check_windows_between(wrong)
    assert not result.passed and not result.skipped


def naive_times(session, keyspace, device_id, start, end):
    """The right rows and order, its times naive: what later cells compare with UTC datetimes fails there."""
    frame = nb08.windows_between(session, keyspace, device_id, start, end)
    frame["window_start"] = frame["window_start"].dt.tz_localize(None)
    return frame


def test_windows_between_with_naive_times_fails_naming_the_rule(lab_settings):
    result = nb08.check_windows_between(naive_times)
    assert not result.passed and not result.skipped
    assert "naive times" in result.message and "UTC" in result.message


def two_columns_only(session, keyspace, device_id, start, end):
    """The right rows, but only the two columns the check once asked for: the notebook's plot then fails."""
    return nb08.windows_between(session, keyspace, device_id, start, end)[["window_start", "avg_temp"]]


@pytest.mark.parametrize("wrong, rule", [(newest_first, "not oldest first"),
                                         (two_columns_only, "no column min_temp, max_temp")])
def test_windows_between_wrong_order_or_columns_fail_naming_the_rule(lab_settings, wrong, rule):
    result = nb08.check_windows_between(wrong)
    assert not result.passed and rule in result.message, result.message


# ----------------------------------------------------------------------------- 08.4 read_your_writes


def test_read_your_writes_reference_passes_on_the_node_and_stub_is_skipped(lab_settings):
    result = nb08.check_read_your_writes(nb08.read_your_writes)
    assert result.passed, result.message
    assert "refuses TWO, QUORUM and ALL" in result.message
    assert nb08.check_read_your_writes(stub).skipped


@pytest.mark.parametrize("wrong, rule", [
    (lambda rf, down: ("ONE", "ONE"), "a read may ask only replicas that missed the write"),
    (lambda rf, down: ("ONE", "ALL"), "Unavailable"),
    (lambda rf, down: ("QUORUM", "QUORUM"), "return None"),
    (lambda rf, down: None, "a pair exists"),
    (lambda rf, down: ("quorum", "quorum"), "answer a (write level, read level) pair"),
    (lambda rf, down: ("TWO", "TWO") if rf >= 3 and rf - down >= 2 else nb08.read_your_writes(rf, down), "RF 5"),
])
def test_read_your_writes_wrong_answers_fail_with_the_rule_they_broke(lab_settings, wrong, rule):
    result = nb08.check_read_your_writes(wrong)
    assert not result.passed and not result.skipped
    assert rule in result.message, result.message
