"""The end-to-end pipeline measured: its throughput next to a plain Kafka consumer on the same topic, and the
latency from a window's close to its row in Cassandra under a steady real-time load.

1. **Throughput.** One topic of ``readings`` (3 partitions; out-of-order and malformed records, so dead-letter
   routing runs). The plain consumer reads it all (the ceiling: it only fetches), then the bounded pipeline
   runs over it (validate, windows, latest readings, alerts, Cassandra). The pipeline's rate is over the job's
   run time as the cluster measured it, from its start to its end, when its last row is in Cassandra (the
   async writer finishes every write in flight before the job does); "with start-up" adds emptying the
   tables, planning the job and starting the in-process cluster.
2. **Latency.** The pipeline runs on the session cluster while ``rate`` readings/s arrive for ``seconds``.
   The simulator's clock runs faster than the wall clock (``devices`` readings per simulated ``interval``
   at ``rate``/s), so 5-minute windows close every few seconds. A window closes when the watermark passes
   its end: the moment the first reading with event time >= end + bound was **sent** (so Kafka's own
   delivery time counts against the pipeline). Its row is written at the driver's client-side write
   timestamp (``WRITETIME``, the moment the writer sent the upsert); a poller that reads one device's
   newest window every 20 ms shows how much later the row is readable. The first ``WARM_UP_SECONDS`` of the
   load are sent but not counted: a job's first rows wait for its Python workers to start (unpickle the
   functions, connect to Cassandra), 4 to 7 s on 2 cores, which is start-up, not the steady state. The bench
   prints that start-up delay too.

Numbers depend on the machine and what else runs on it: they are printed, never asserted in a test.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Callable

from iotlab.bench.machine import machine_description
from iotlab.bench.topics import fill_bench_topic
from iotlab.cassandra import WINDOWS_TABLE, closing_session
from iotlab.core.errors import ServiceTimeout
from iotlab.core.timestamps import EPOCH, MINUTE_MS, epoch_ms, utc_day
from iotlab.core.windows import WINDOW_MS
from iotlab.flink import rest
from iotlab.jobs import pipeline
from iotlab.kafka import read_topic, recreate_topic, send_records
from iotlab.sim.paced import PacedStream
from iotlab.sim.sensors import SimulationConfig

PLAIN = "plain Kafka consumer (confluent-kafka)"
LATENCY_BOUND_MINUTES = 1  # the watermark trails the newest reading by a minute of event time
WARM_UP_SECONDS = 20  # of load before the latency counts (see the module)


def throughput(topic: str, keyspace: str, runs: int, echo: Callable[[str], None]) -> dict[str, tuple[float, float]]:
    """Best of ``runs`` turns each: {pipeline: (readings/s, readings/s with start-up)}."""
    best: dict[str, tuple[float, float]] = {}
    for turn in range(1, runs + 1):
        echo(f"Turn {turn} of {runs}: plain consumer, then the pipeline at parallelism 1 and 2 ...")
        started = time.perf_counter()
        consumed = len(read_topic(topic, timeout_s=600))
        rate = consumed / (time.perf_counter() - started)
        best[PLAIN] = max(best.get(PLAIN, (0.0, 0.0)), (rate, rate))
        for parallelism in (1, 2):
            started = time.perf_counter()
            summary = pipeline.run(topic, keyspace, parallelism=parallelism)
            with_start_up = summary.readings_in / (time.perf_counter() - started)
            net = summary.readings_in / summary.job_seconds
            echo(f"  parallelism {parallelism}: {summary.line()}")
            name = f"pipeline, bounded, parallelism {parallelism}"
            best[name] = max(best.get(name, (0.0, 0.0)), (net, with_start_up))
    return best


def poll_one_device(keyspace: str, device: str, stop: threading.Event, seen: dict) -> None:
    """Read ``device``'s newest windows every 20 ms; note when each window start is first readable."""
    with closing_session() as session:
        while not stop.is_set():
            rows = session.execute(f"SELECT window_start FROM {keyspace}.{WINDOWS_TABLE} WHERE device_id = %s "
                                   "AND day = %s LIMIT 3", (device, seen["day"]))
            now = time.time()
            for row in rows:
                seen.setdefault(row.window_start, now)
            time.sleep(0.02)


def latency(topic: str, keyspace: str, rate: int, seconds: int, devices: int,
            echo: Callable[[str], None]) -> dict[str, float]:
    """Window close → row written (p50, p99 over the window rows that closed after the warm-up), under ``rate``
    readings/s for ``WARM_UP_SECONDS`` + ``seconds``."""
    total = rate * (WARM_UP_SECONDS + seconds)
    config = SimulationConfig(devices=devices, interval_s=1, count=total, seed=9)
    recreate_topic(topic, partitions=3)
    job_id = pipeline.submit(topic, keyspace, out_of_orderness_minutes=LATENCY_BOUND_MINUTES)
    stream = PacedStream(config)
    seen = {"day": utc_day(config.start)}
    stop = threading.Event()
    poller = threading.Thread(target=poll_one_device, args=(keyspace, "device-01", stop, seen), daemon=True)
    try:
        rest.wait_for_running(job_id)
        poller.start()
        echo(f"Sending {total:,} readings at {rate:,}/s ({devices} devices, simulated time {rate // devices}x the "
             f"wall clock; the first {WARM_UP_SECONDS} s are the warm-up) while the pipeline runs on the session "
             "cluster ...")
        started = time.time()
        sent = send_records(stream.records(), topic, total=total, rate=rate, progress=False)
        time.sleep(3)  # the last closed windows' writes
    finally:
        stop.set()
        rest.cancel(job_id)
    with closing_session() as session:
        rows = list(session.execute(f"SELECT device_id, window_start, WRITETIME(avg_temp) AS written "
                                    f"FROM {keyspace}.{WINDOWS_TABLE}"))
    delays, warm_up, readable = [], [], []
    bound_ms = LATENCY_BOUND_MINUTES * MINUTE_MS
    for row in rows:
        end_ms = epoch_ms(row.window_start.replace(tzinfo=EPOCH.tzinfo)) + WINDOW_MS
        closed_at = stream.first_sent(end_ms + bound_ms)
        if closed_at < started + WARM_UP_SECONDS:
            warm_up.append(row.written / 1e6 - closed_at)
            continue
        delays.append(row.written / 1e6 - closed_at)
        if row.device_id == "device-01" and row.window_start in seen:
            readable.append(seen[row.window_start] - row.written / 1e6)
    if len(delays) < 100:
        raise ServiceTimeout(f"only {len(delays)} window rows reached Cassandra during the load",
                             "see the job in the Flink Web UI (http://127.0.0.1:8081), then run the benchmark again")
    quantiles = statistics.quantiles(delays, n=100)
    return {"rate": sent.delivered / sent.seconds, "windows": len(delays), "p50": quantiles[49], "p99": quantiles[98],
            "max": max(delays), "warm_up_rows": len(warm_up), "warm_up_max": max(warm_up, default=float("nan")),
            "readable_after_write": statistics.median(readable) if readable else float("nan")}


def bench_pipeline(readings: int = 1_000_000, devices: int = 100, runs: int = 2, rate: int = 5_000,
                   seconds: int = 60, topic: str = "bench.pipeline", keyspace: str = "iotlab_bench_pipeline",
                   echo: Callable[[str], None] = print) -> dict:
    """Both measurements in one run, then the table and the two summary lines."""
    fill_bench_topic(topic, readings, devices, echo)
    best = throughput(topic, keyspace, runs, echo)
    live = latency(f"{topic}.live", f"{keyspace}_live", rate, seconds, devices, echo)
    echo("")
    echo(f"Machine: {machine_description()}")
    echo(f"Topic: {readings:,} readings in 3 partitions, {devices} devices; dead-lettering and late routing on")
    echo(f"{'pipeline':<48} {'readings/s':>11} {'with start-up':>14}")
    for name, (net, with_start_up) in best.items():
        echo(f"{name:<48} {net:>11,.0f} {with_start_up:>14,.0f}")
    echo(f"(best of {runs} runs; the pipeline's readings/s: from the job's start to its last row in Cassandra)")
    echo(f"Latency under {live['rate']:,.0f} readings/s for {seconds} s after a {WARM_UP_SECONDS} s warm-up "
         f"({live['windows']:,} window rows): "
         f"window close -> row written p50 {live['p50']:.2f} s, p99 {live['p99']:.2f} s, max {live['max']:.2f} s; "
         f"readable {live['readable_after_write'] * 1000:.0f} ms after its write (median, one device polled)")
    echo(f"Not counted: the {live['warm_up_rows']:,} window rows of the {WARM_UP_SECONDS} s warm-up, the slowest "
         f"{live['warm_up_max']:.2f} s after its close (the job's Python workers starting on its first rows)")
    fastest = max((name for name in best if name != PLAIN), key=lambda name: best[name][0])
    echo(f"Fastest: {fastest}")
    ratio = best[fastest][0] / best[PLAIN][0]
    echo(f"pipeline / plain consumer: {ratio:.2f}")
    echo(f"p99 close-to-row: {live['p99']:.2f} s")
    return {"throughput": best, "latency": live, "ratio": ratio}
