"""The course's store against the lab's real Cassandra node: schema, idempotent loads, counted failures,
day buckets at midnight UTC, last-write-wins by event time, and the reset that drops only course keyspaces."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from cassandra import ConsistencyLevel
from cassandra.query import BatchType

from iotlab.cassandra import (
    TABLES,
    WINDOWS_TABLE,
    Store,
    WriteFailed,
    all_buckets,
    cassandra_session,
    course_keyspaces,
    create_schema,
    device_bucket,
    ensure_keyspace,
    prepare_idempotent,
    reset_course_keyspaces,
    window_values,
    write_async,
    write_concurrently,
    write_one_by_one,
    write_partition_batches,
)
from iotlab.core.errors import StoreOutdated
from iotlab.jobs.window_aggregate import aggregate_lines
from iotlab.sim.sensors import generate_readings, to_json_bytes

KEYSPACE = "iotlab_test_store"
MIDNIGHT = datetime(2025, 11, 6, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def session(lab_settings):
    session = cassandra_session(lab_settings)
    session.execute(f"DROP KEYSPACE IF EXISTS {KEYSPACE}", timeout=60)
    create_schema(session, KEYSPACE)
    yield session
    session.cluster.shutdown()


@pytest.fixture
def store(session):
    for table in TABLES:
        session.execute(f"TRUNCATE {KEYSPACE}.{table}", timeout=60)
    return Store(session, KEYSPACE)


def window(device: str, start: datetime, avg: float = 21.0) -> dict:
    return {"device_id": device, "window_start": start, "window_end": start + timedelta(minutes=5), "count": 5,
            "avg_temp": avg, "min_temp": avg - 1, "max_temp": avg + 1, "avg_humidity": 40.0}


def table_rows(session, table: str) -> list[tuple]:
    return sorted(tuple(row) for row in session.execute(f"SELECT * FROM {KEYSPACE}.{table}"))


def test_schema_is_created_idempotently(session):
    create_schema(session, KEYSPACE)  # a second time: nothing fails, nothing changes
    tables = {row.table_name for row in session.execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (KEYSPACE,))}
    assert tables == set(TABLES)
    indexes = {row.index_name for row in session.execute(
        "SELECT index_name FROM system_schema.indexes WHERE keyspace_name = %s", (KEYSPACE,))}
    assert indexes == {"alerts_by_day_kind"}


def test_loading_the_same_windows_twice_leaves_the_same_table(session, store):
    readings = list(generate_readings(600, devices=4, seed=8))
    windows = aggregate_lines([to_json_bytes(r) for r in readings]).windows.to_dict("records")
    assert store.write_windows(windows).raise_for_failures().written == len(windows)
    first = table_rows(session, WINDOWS_TABLE)
    store.write_windows(windows).raise_for_failures()
    assert table_rows(session, WINDOWS_TABLE) == first
    assert len(first) == len(windows)


def test_a_range_across_midnight_reads_both_day_buckets(store):
    starts = [MIDNIGHT + timedelta(minutes=5 * step) for step in range(-6, 6)]  # 23:30 to 00:25
    store.write_windows([window("device-01", start) for start in starts]).raise_for_failures()
    days = {row.day for row in store.session.execute(f"SELECT day FROM {KEYSPACE}.{WINDOWS_TABLE}")}
    assert {str(day) for day in days} == {"2025-11-05", "2025-11-06"}
    both = store.device_windows("device-01", MIDNIGHT - timedelta(minutes=30), MIDNIGHT + timedelta(minutes=30))
    assert list(both.window_start) == starts
    before = store.device_windows("device-01", MIDNIGHT - timedelta(hours=1), MIDNIGHT)  # ends at midnight
    assert list(before.window_start) == starts[:6]
    latest = store.latest_windows("device-01", 8, until=MIDNIGHT + timedelta(hours=1))
    assert list(latest.window_start) == sorted(starts, reverse=True)[:8]


def test_latest_reading_is_the_newest_event_whatever_the_write_order(store):
    newer = {"device_id": "device-01", "timestamp": "2025-11-05T12:01:00Z", "temperature": 21.0, "humidity": 40.0,
             "status": "OK"}
    older = {**newer, "timestamp": "2025-11-05T12:00:00Z", "temperature": 99.0}
    store.write_latest_readings([newer]).raise_for_failures()
    store.write_latest_readings([older]).raise_for_failures()  # arrives later, but is older: must not win
    latest = store.latest_readings()
    assert latest.temperature.tolist() == [21.0]


def test_alerts_by_day_kind_and_device(store):
    at = MIDNIGHT + timedelta(hours=1)
    alerts = [{"device_id": "device-01", "kind": "silence", "alert_at": at, "start": at - timedelta(minutes=10),
               "end": at, "details": {"gap_minutes": 10}},
              {"device_id": "device-02", "kind": "spike", "alert_at": at + timedelta(minutes=5), "start": at,
               "end": at, "score": 6.5}]
    store.write_alerts(alerts).raise_for_failures()
    assert store.fleet_alerts(at.date()).device_id.tolist() == ["device-02", "device-01"]  # newest first
    assert store.fleet_alerts(at.date(), kind="spike").device_id.tolist() == ["device-02"]
    mine = store.device_alerts("device-01", MIDNIGHT - timedelta(days=1), MIDNIGHT + timedelta(days=1))
    assert mine.kind.tolist() == ["silence"] and mine.details.tolist() == ['{"gap_minutes": 10}']


def test_the_fleet_queries_read_every_device_bucket(store):
    """20 devices land in every bucket: the fleet's alerts of a day and its latest readings hold all 20."""
    devices = [f"device-{number:02d}" for number in range(1, 21)]
    assert {device_bucket(device) for device in devices} == set(all_buckets())
    at = MIDNIGHT + timedelta(hours=2)
    store.write_alerts([{"device_id": device, "kind": "stuck", "quantity": quantity, "alert_at": at, "start": at,
                         "end": at} for device in devices for quantity in ("temperature", "humidity")])
    alerts = store.fleet_alerts(at.date())
    assert len(alerts) == 40  # a stuck temperature and a stuck humidity at the same moment are two alerts
    assert alerts.device_id.tolist() == sorted(devices * 2) and set(alerts.quantity) == {"temperature", "humidity"}
    store.write_latest_readings([{"device_id": device, "timestamp": "2025-11-05T12:00:00Z", "temperature": 20.0,
                                  "humidity": 40.0, "status": "OK"} for device in devices])
    assert store.latest_readings().device_id.tolist() == devices


def test_an_alert_goes_to_both_tables_in_one_logged_batch(store):
    at = MIDNIGHT + timedelta(hours=3)
    batch = store.alert_batch({"device_id": "device-05", "kind": "drift", "quantity": "humidity", "alert_at": at,
                               "start": at - timedelta(minutes=30), "end": at})
    assert batch.batch_type == BatchType.LOGGED and len(batch._statements_and_parameters) == 2
    assert batch.is_idempotent
    store.session.execute(batch)
    assert store.fleet_alerts(at.date(), kind="drift").quantity.tolist() == ["humidity"]
    assert store.device_alerts("device-05", at - timedelta(hours=1), at + timedelta(hours=1)).kind.tolist() == [
        "drift"]


def test_a_table_an_older_schema_made_is_named_with_the_fix(session):
    old = "iotlab_test_old_schema"
    session.execute(f"DROP KEYSPACE IF EXISTS {old}", timeout=60)
    ensure_keyspace(session, old)
    session.execute(f"CREATE TABLE {old}.latest_reading_by_fleet (fleet text, device_id text, reading_at timestamp, "
                    "temperature double, humidity double, status text, PRIMARY KEY ((fleet), device_id))", timeout=60)
    with pytest.raises(StoreOutdated) as raised:
        create_schema(session, old)
    assert "no column bucket" in str(raised.value) and "iotlab store reset" in str(raised.value)
    session.execute(f"DROP KEYSPACE IF EXISTS {old}", timeout=60)


@pytest.mark.parametrize("method", ["one_by_one", "concurrently", "async", "batches"])
def test_every_failed_write_is_counted_with_its_row(session, store, method):
    rows = [list(window_values(window("device-01", MIDNIGHT + timedelta(minutes=5 * i)))) for i in range(20)]
    for position in (3, 11):
        rows[position][0] = None  # a null partition key: the node refuses these two rows
    statement = store.insert_window
    summary = {
        "one_by_one": lambda: write_one_by_one(session, statement, rows),
        "concurrently": lambda: write_concurrently(session, statement, rows),
        "async": lambda: write_async(session, statement, rows, in_flight=4),
        "batches": lambda: write_partition_batches(session, statement, rows, lambda v: (v[0], v[1]),
                                                   rows_per_batch=1),
    }[method]()
    assert summary.attempted == 20 and summary.written == 18
    assert [position for position, _ in summary.failures] == [3, 11]
    assert any(word in summary.failures[0][1].lower() for word in ("null", "none"))  # the reason is kept
    with pytest.raises(WriteFailed, match="row 3"):
        summary.raise_for_failures()
    assert len(table_rows(session, WINDOWS_TABLE)) == 18


def test_a_consistency_the_single_node_cannot_give_fails_every_write(session, store):
    statement = prepare_idempotent(session, f"INSERT INTO {KEYSPACE}.{WINDOWS_TABLE} (device_id, day, window_start) "
                                            "VALUES (?, ?, ?)")
    statement.consistency_level = ConsistencyLevel.TWO  # two replicas: the lab has one node
    summary = write_concurrently(session, statement, [("device-01", date(2025, 11, 5), MIDNIGHT)] * 3)
    assert summary.written == 0 and summary.failed == 3
    assert "Unavailable" in summary.failures[0][1]


@pytest.mark.alone  # drops every course keyspace, the other tests' too
def test_reset_drops_the_course_keyspaces_only(session):
    ensure_keyspace(session, "iotlab_test_reset")
    ensure_keyspace(session, "notcourse_keep")
    try:
        assert "iotlab_test_reset" in course_keyspaces(session)
        dropped = reset_course_keyspaces(session)
        assert "iotlab_test_reset" in dropped and "notcourse_keep" not in dropped
        remaining = {row.keyspace_name for row in session.execute("SELECT keyspace_name FROM system_schema.keyspaces")}
        assert "notcourse_keep" in remaining and "system" in remaining
        assert not any(name.startswith("iotlab") for name in remaining)
    finally:
        session.execute("DROP KEYSPACE IF EXISTS notcourse_keep", timeout=60)
        create_schema(session, KEYSPACE)  # the module's other tests may still run after this one


def test_the_cassandra_bench_writes_every_row_four_ways_and_prints_the_ratio(lab_settings):
    from iotlab.bench import bench_cassandra

    lines: list[str] = []
    results = bench_cassandra(rows=600, devices=6, concurrency=16, echo=lines.append)
    assert len(results) == 4 and all(summary.written == 600 and summary.failed == 0 for summary in results.values())
    assert lines[-1].startswith("fastest / synchronous: ") and lines[-1].endswith("x")
    assert any("cores" in line for line in lines)


def test_windows_and_alerts_live_their_retention_from_their_event_time(session, store):
    """A window of ten days ago lives the 80 days left of its 90; one of November 2025 (a replay) the week's floor,
    not 90 days from the replay; an alert of ten days ago the 355 days left of its year; a Store given another
    retention (notebook 09's version 2) writes by it."""
    day_s = 24 * 3600
    ten_days_ago = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(days=10)
    store.write_windows([window("device-01", ten_days_ago), window("device-02", MIDNIGHT)])
    store.write_alerts([{"device_id": "device-03", "kind": "spike", "quantity": "temperature", "score": 5.0,
                         "alert_at": ten_days_ago, "start": ten_days_ago - timedelta(minutes=2), "end": ten_days_ago}])
    Store(session, KEYSPACE, window_retention_s=10 * 365 * day_s).write_windows([window("device-04", MIDNIGHT)])

    def window_ttl(device: str, start: datetime) -> int:
        return session.execute(f"SELECT TTL(avg_temp) AS ttl FROM {KEYSPACE}.{WINDOWS_TABLE} WHERE device_id = %s "
                               "AND day = %s AND window_start = %s", (device, start.date(), start)).one().ttl

    assert 80 * day_s - 120 <= window_ttl("device-01", ten_days_ago) <= 80 * day_s
    assert 7 * day_s - 120 <= window_ttl("device-02", MIDNIGHT) <= 7 * day_s
    assert window_ttl("device-04", MIDNIGHT) > 8 * 365 * day_s
    day = ten_days_ago.date()
    alert_ttls = [row.ttl for row in session.execute(
        f"SELECT TTL(score) AS ttl FROM {KEYSPACE}.alerts_by_day WHERE day = %s AND bucket = %s",
        (day, device_bucket("device-03")))] + [row.ttl for row in session.execute(
        f"SELECT TTL(score) AS ttl FROM {KEYSPACE}.alerts_by_device_day WHERE device_id = %s AND day = %s",
        ("device-03", day))]
    assert len(alert_ttls) == 2 and all(355 * day_s - 120 <= ttl <= 355 * day_s for ttl in alert_ttls)
