"""Write the same window rows to the lab's Cassandra node four ways and compare rows/s side by side.

One synchronous ``execute`` per row waits a round trip per row; the driver's concurrent execution and
bounded async futures keep many requests in flight; unlogged batches group rows of one partition. The table
is truncated before each method, so each writes into the same empty table. The client CPU column is this
Python process's CPU time per row: with many requests in flight the driver, not the network, becomes the
limit. Numbers are for comparing methods in one run on one machine, never for assertions.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Callable

from iotlab.bench.machine import machine_description
from iotlab.cassandra import (
    WINDOWS_TABLE,
    Store,
    WriteSummary,
    closing_session,
    create_schema,
    window_values,
    write_async,
    write_concurrently,
    write_one_by_one,
    write_partition_batches,
)

BENCH_KEYSPACE = "iotlab_bench"
START = datetime(2025, 11, 5, tzinfo=timezone.utc)


def bench_windows(rows: int, devices: int) -> list[dict]:
    """``rows`` 5-minute windows (data contract) over ``devices`` devices, consecutive in time per device."""
    windows = []
    for position in range(rows):
        device, slot = position % devices, position // devices
        start = START + timedelta(minutes=5 * slot)
        windows.append({"device_id": f"device-{device:03d}", "window_start": start,
                        "window_end": start + timedelta(minutes=5), "count": 5, "avg_temp": 20 + (position % 97) / 10,
                        "min_temp": 18.0, "max_temp": 25.0, "avg_humidity": 45.0})
    return windows


def bench_cassandra(rows: int = 100_000, devices: int = 100, concurrency: int = 64,
                    echo: Callable[[str], None] = print) -> dict[str, WriteSummary]:
    """Write ``rows`` window rows synchronously, concurrently, with async futures and in partition batches."""
    with closing_session() as session:
        create_schema(session, BENCH_KEYSPACE)
        statement = Store(session, BENCH_KEYSPACE).insert_window
        values = [window_values(window) for window in bench_windows(rows, devices)]
        methods = {
            "synchronous: one execute per row": lambda: write_one_by_one(session, statement, values, progress=True),
            f"concurrent: execute_concurrent_with_args ({concurrency} in flight)":
                lambda: write_concurrently(session, statement, values, concurrency),
            f"async futures ({concurrency} in flight)": lambda: write_async(session, statement, values, concurrency),
            f"unlogged batches of one partition (50 rows, {concurrency} in flight)":
                lambda: write_partition_batches(session, statement, values, lambda v: (v[0], v[1]),
                                                concurrency=concurrency),
        }
        results: dict[str, WriteSummary] = {}
        client_cpu: dict[str, float] = {}
        for name, write in methods.items():
            session.execute(f"TRUNCATE {BENCH_KEYSPACE}.{WINDOWS_TABLE}", timeout=120)
            echo(f"{name} ...")
            before = os.times()
            results[name] = write()
            after = os.times()
            client_cpu[name] = (after.user - before.user) + (after.system - before.system)
            stored = session.execute(f"SELECT COUNT(*) FROM {BENCH_KEYSPACE}.{WINDOWS_TABLE}", timeout=120).one()[0]
            if stored != rows - results[name].failed:
                raise RuntimeError(f"{name}: {stored} rows stored, {rows - results[name].failed} written")
    echo("")
    echo(f"Machine: {machine_description()}")
    echo(f"{rows:,} window rows of {devices} devices into {BENCH_KEYSPACE}.{WINDOWS_TABLE} on the lab's node")
    echo("")
    echo("| method | rows/s | seconds | client CPU µs/row | failed |\n|---|---|---|---|---|")
    for name, summary in results.items():
        echo(f"| {name} | {summary.rows_per_second:,.0f} | {summary.seconds:.1f} | "
             f"{client_cpu[name] / rows * 1e6:,.0f} | {summary.failed} |")
    synchronous = next(iter(results.values())).rows_per_second
    fastest = max(summary.rows_per_second for summary in results.values())
    echo("")
    echo(f"fastest / synchronous: {fastest / synchronous:.1f}x")
    return results
