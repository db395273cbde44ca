"""A fault drill: the pipeline runs under a steady load while one fault after another hits the lab, and at the end
its output is compared, row by row, with a batch recomputation of the very records it read.

For each fault the drill measures, from the moment it is injected:

- **time to detect**: until Flink shows it, the job leaving RUNNING or a new entry in its exception history
  (``GET /jobs/<id>/exceptions``). A fault the job absorbs (a Kafka client moving to a new partition leader, a
  Cassandra driver sending to another replica) is never detected: nothing failed.
- **until running**: until the job (or, after a JobManager kill, the job resumed from its checkpoint) runs with
  every operator RUNNING, for good.
- **until caught up**: until the output is current again. A window closes when a reading past its end plus the
  watermark bound is sent; the output's lag is how long ago the oldest closed window of one polled device that is
  not in Cassandra yet closed (0 when there is none). Caught up: a window that closed after the fault is in
  Cassandra, and the lag is back within a second of what it was before the fault.

Then the load stops, flush readings close every window, and the rows are compared with the recomputation
(``iotlab.jobs.pipeline.reference``) of everything the topic holds. Each fault owns the windows and alerts that
closed between its injection and its catch-up: **missing** (in the recomputation, not in Cassandra),
**different** (other values, or a row only Cassandra has) and **duplicated** (an alert more than once in
``T.alerts``, read read_committed; the tables cannot hold a row twice: a write is an upsert of its key).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable, Optional

from iotlab.cassandra import WINDOWS_TABLE, closing_session
from iotlab.cassandra.exports import export_alerts, export_latest, export_windows
from iotlab.core.errors import LabError
from iotlab.core.timestamps import EPOCH, MINUTE_MS, epoch_ms, format_epoch_ms, timestamp_ms, utc_day
from iotlab.core.topics import OutputTopics
from iotlab.core.topology import recorded_nodes
from iotlab.core.windows import WINDOW_MS
from iotlab.faults.jobmanager import kill_jobmanager_and_resume
from iotlab.flink import rest
from iotlab.jobs import pipeline
from iotlab.jobs.pipeline import reference
from iotlab.jobs.pipeline.flush import FLUSH_DEVICE, send_flush_readings, without_flush
from iotlab.kafka import read_topic, recreate_topic
from iotlab.lab.runtime import LabRuntime
from iotlab.sim.paced import PacedStream, SteadyLoad

Say = Callable[[str], None]
BOUND_MINUTES = 1  # the watermark trails the newest reading by a minute of event time (the stream is in order)
POLLED_DEVICE = "device-01"  # the device whose newest window tells how current the output is
CAUGHT_UP_MARGIN_S = 1.0  # caught up: the output's lag back within this of its lag before the fault
SAMPLE_EVERY_S = 0.5


@dataclass(frozen=True)
class Fault:
    """One fault of the drill: what a learner would type, how to inject it and how to undo it."""

    name: str
    command: str
    inject: Callable[[LabRuntime, Say], Optional[str]]  # returns the new job id when the job was replaced
    undo: Optional[Callable[[LabRuntime, Say], object]] = None


def _resumed_job(lab: LabRuntime, say: Say) -> Optional[str]:
    resumed = kill_jobmanager_and_resume(lab, say=say)
    return resumed[0].new_job_id if resumed else None


def drill_faults(outage_s: float = 60.0) -> list[Fault]:
    """The faults of notebook 11 and ``iotlab bench faults``, in order, for the three-node lab."""
    return [
        Fault("broker 2 killed", "iotlab fault kill broker 2",
              lambda lab, say: lab.kill("kafka", 2, say=say), lambda lab, say: lab.restart("kafka", 2, say=say)),
        Fault("Cassandra node 3 killed", "iotlab fault kill cassandra 3",
              lambda lab, say: lab.kill("cassandra", 3, say=say),
              lambda lab, say: lab.restart("cassandra", 3, say=say)),
        Fault(f"Cassandra outage ({outage_s:.0f} s)", f"iotlab fault pause cassandra --for {outage_s:.0f}",
              lambda lab, say: lab.pause("cassandra", outage_s, say=say)),
        Fault("TaskManager killed", "iotlab fault kill taskmanager", lambda lab, say: lab.kill_taskmanager(say=say)),
        Fault("JobManager killed", "iotlab fault kill jobmanager", _resumed_job),
    ]


@dataclass
class FaultRecord:
    """What one fault did to the pipeline."""

    fault: str
    injected_at: float  # time.time()
    detected_s: Optional[float] = None  # None: the job never noticed
    running_again_s: Optional[float] = None  # 0: it never stopped; None: it did not run again in time
    caught_up_s: Optional[float] = None  # None: not caught up in time
    lag_before_s: float = 0.0
    compared: int = 0
    missing: int = 0
    duplicated: int = 0
    different: int = 0
    job_id: str = ""  # the job running once caught up (a new one after a JobManager kill)
    rest: tuple[dict, list[dict]] = ({}, [])  # GET /jobs/<id> and its exception history, once caught up

    @property
    def survived(self) -> bool:
        return self.caught_up_s is not None and self.missing == self.duplicated == self.different == 0


@dataclass
class DrillReport:
    """Every fault's record, and the comparison of the whole run."""

    faults: list[FaultRecord]
    readings: int
    rate: float
    compared: int = 0
    missing: int = 0
    duplicated: int = 0
    different: int = 0
    job_ids: list[str] = field(default_factory=list)
    rows: dict[str, dict[str, list]] = field(default_factory=dict)  # actual / expected rows per table, delivered alerts
    window_period_s: float = 0.0  # wall-clock seconds between two closing windows of one device at this rate

    def table(self) -> list[str]:
        def seconds(value: Optional[float], none: str) -> str:
            return none if value is None else f"{value:.1f} s"

        lines = [f"{'fault':<28} {'detected':>10} {'running':>9} {'caught up':>10} {'rows':>6} {'missing':>8} "
                 f"{'duplicated':>11} {'different':>10}"]
        for record in self.faults:
            lines.append(f"{record.fault:<28} {seconds(record.detected_s, 'absorbed'):>10} "
                         f"{seconds(record.running_again_s, 'never'):>9} {seconds(record.caught_up_s, 'never'):>10} "
                         f"{record.compared:>6} {record.missing:>8} {record.duplicated:>11} {record.different:>10}")
        lines.append(f"{'whole run':<28} {'':>10} {'':>9} {'':>10} {self.compared:>6} {self.missing:>8} "
                     f"{self.duplicated:>11} {self.different:>10}")
        return lines

    def summary(self) -> str:
        survived = sum(record.survived for record in self.faults)
        return (f"faults survived: {survived} of {len(self.faults)}, rows lost {self.missing}, "
                f"rows duplicated {self.duplicated}")


class OutputWatch:
    """How current the pipeline's output is: the lag of ``POLLED_DEVICE``'s newest window in Cassandra."""

    def __init__(self, keyspace: str, stream: PacedStream, session) -> None:
        self.keyspace = keyspace
        self.stream = stream
        self.session = session

    def newest_window_ms(self) -> Optional[int]:
        """The start of the polled device's newest window in Cassandra (None: none yet, or no answer)."""
        if not self.stream.event_ms:
            return None
        newest = self.stream.event_ms[-1]
        days = sorted({utc_day(_moment(newest)), utc_day(_moment(newest - 2 * WINDOW_MS))})
        starts = []
        for day in days:
            try:
                row = self.session.execute(f"SELECT max(window_start) AS newest FROM {self.keyspace}.{WINDOWS_TABLE} "
                                           "WHERE device_id = %s AND day = %s", (POLLED_DEVICE, day),
                                           timeout=2).one()
            except Exception:  # Cassandra frozen or down: no answer is no news
                return None
            if row is not None and row.newest is not None:
                starts.append(epoch_ms(row.newest.replace(tzinfo=EPOCH.tzinfo)))
        return max(starts) if starts else None

    def closed_at(self, window_start_ms: int) -> Optional[float]:
        """When the window starting at ``window_start_ms`` closed: the first reading past its end plus the bound
        was sent (None: not yet)."""
        closes = window_start_ms + WINDOW_MS + BOUND_MINUTES * MINUTE_MS
        return self.stream.first_sent(closes) if self.stream.was_sent(closes) else None

    def lag_s(self, first_window_ms: int) -> tuple[Optional[float], Optional[float]]:
        """(the output's lag, when the newest window in Cassandra closed). The lag: seconds since the oldest window
        of the polled device that has closed but is not in Cassandra closed, 0 when every closed window is there;
        (None, None) when Cassandra did not answer."""
        newest = self.newest_window_ms()
        if newest is None and not _answered(self.session):
            return None, None
        written_closed_at = None if newest is None else self.closed_at(newest)
        pending_closed_at = self.closed_at(first_window_ms if newest is None else newest + WINDOW_MS)
        lag = 0.0 if pending_closed_at is None else max(0.0, time.time() - pending_closed_at)
        return lag, written_closed_at


def _moment(milliseconds: int):
    return EPOCH + timedelta(milliseconds=milliseconds)


def _answered(session) -> bool:
    try:
        session.execute("SELECT release_version FROM system.local", timeout=2)
        return True
    except Exception:
        return False


def job_runs(job_id: Optional[str]) -> bool:
    """The job and every operator of it RUNNING (False when the JobManager does not answer)."""
    if job_id is None:
        return False
    try:
        details = rest.job_details(job_id)
    except Exception:
        return False
    return details["state"] == "RUNNING" and all(v["status"] == "RUNNING" for v in details["vertices"])


def first_exception_after(job_id: str, moment: float) -> Optional[float]:
    """The time.time() of the job's first failure at or after ``moment`` (None: none recorded, or no answer)."""
    try:
        entries = rest.exception_history(job_id)
    except Exception:
        return None
    times = [entry["timestamp"] / 1000 for entry in entries if entry.get("timestamp", 0) / 1000 >= moment]
    return min(times, default=None)


def _inject_in_background(fault: Fault, lab: LabRuntime, say: Say) -> tuple[threading.Thread, dict]:
    """Run ``fault.inject`` in a thread (a pause blocks for its duration); its result lands in the dict."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["job_id"] = fault.inject(lab, say)
        except BaseException as error:  # reported by the drill, which goes on to undo it
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def watch_fault(fault: Fault, lab: LabRuntime, job_id: str, watch: OutputWatch, first_window_ms: int,
                timeout_s: float, say: Say) -> tuple[FaultRecord, str]:
    """Inject ``fault`` and sample the job and the output until it is caught up; (the record, the job id now)."""
    lags = []
    settle_until = time.time() + 5
    while time.time() < settle_until:  # the output's lag before the fault
        lag, _ = watch.lag_s(first_window_ms)
        if lag is not None:
            lags.append(lag)
        time.sleep(SAMPLE_EVERY_S)
    record = FaultRecord(fault.name, injected_at=time.time(), lag_before_s=max(lags, default=0.0))
    say(f"{time.strftime('%H:%M:%S')} {fault.command}")
    thread, outcome = _inject_in_background(fault, lab, say)
    samples: list[tuple[float, bool]] = []
    old_job = job_id
    while time.time() - record.injected_at < timeout_s:
        if not thread.is_alive() and outcome.get("job_id") and outcome["job_id"] != job_id and \
                fault.name.startswith("JobManager"):
            job_id = outcome["job_id"]
        moment, running = time.time(), job_runs(job_id)
        samples.append((moment, running))
        lag, written_closed_at = watch.lag_s(first_window_ms)
        # caught up: a window that closed after the fault is in Cassandra, and no closed window waits for long
        current = lag is not None and lag <= record.lag_before_s + CAUGHT_UP_MARGIN_S
        if not thread.is_alive() and running and current and (written_closed_at or 0) > record.injected_at:
            record.caught_up_s = moment - record.injected_at
            break
        time.sleep(SAMPLE_EVERY_S)
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    record.job_id = job_id
    try:
        record.rest = (rest.job_details(job_id), rest.exception_history(job_id))
    except Exception:  # kept empty: the JobManager did not answer
        pass
    stopped = [moment for moment, running in samples if not running]
    failures = [moment for moment in (first_exception_after(old_job, record.injected_at),) if moment is not None]
    if stopped or failures:
        record.detected_s = min(stopped[:1] + failures) - record.injected_at
    end = record.injected_at + (record.caught_up_s or timeout_s)
    last_stop = max((moment for moment in stopped if moment <= end), default=None)
    if record.caught_up_s is None and samples and not samples[-1][1]:
        record.running_again_s = None
    elif last_stop is None:
        record.running_again_s = 0.0
    else:
        record.running_again_s = min(moment for moment, running in samples if running and moment > last_stop) - \
            record.injected_at
    if fault.undo is not None:
        fault.undo(lab, say)
    return record, job_id


def _window_key(row: dict) -> tuple:
    return row["device_id"], row["window_start"]


def _alert_key(row: dict) -> tuple:
    return row["device_id"], row["kind"], row.get("quantity"), row["alert_at"]


def same_values(a: dict, b: dict, tolerance: float = 1e-6) -> bool:
    """Two rows with the same columns and values, floats within ``tolerance`` (an average computed in another
    order differs in its last bits)."""
    return not reference.differences([a], [b], tolerance=tolerance)


def compare_rows(actual: list[dict], expected: list[dict], key: Callable[[dict], tuple],
                 owned: Callable[[dict], bool]) -> tuple[int, int, int]:
    """(compared, missing, different) over the rows ``owned`` selects: missing from ``actual``, or in it with other
    values or without a counterpart in ``expected``."""
    have = {key(row): row for row in actual if owned(row)}
    want = {key(row): row for row in expected if owned(row)}
    missing = sum(1 for k in want if k not in have)
    different = sum(1 for k, row in have.items() if k not in want or not same_values(row, want[k]))
    return len(have.keys() | want.keys()), missing, different


def run_drill(lab: LabRuntime, faults: list[Fault], rate: int = 5_000, devices: int = 100,
              topic: str = "drill.readings", keyspace: str = "iotlab_drill", timeout_s: float = 300,
              warm_up_s: float = 20, seed: int = 11, say: Say = print) -> DrillReport:
    """The pipeline under ``rate`` readings/s through every fault in turn; the report of what each did."""
    if recorded_nodes() != 3:
        raise LabError("the fault drill needs the three-node lab (a broker or Cassandra node killed on the one-node "
                       "lab is the whole service)", "start it with `iotlab lab down && iotlab lab up --nodes 3`")
    recreate_topic(topic, partitions=3)
    job_id = pipeline.submit(topic, keyspace, out_of_orderness_minutes=BOUND_MINUTES)
    job_ids = [job_id]
    load = SteadyLoad(topic, rate, devices, seed)
    records: list[FaultRecord] = []
    try:
        rest.wait_for_running(job_id)
        load.start()
        say(f"{time.strftime('%H:%M:%S')} the pipeline runs (job {job_id}); {rate:,} readings/s from {devices} "
            f"devices; {warm_up_s:.0f} s of warm-up")
        time.sleep(warm_up_s)
        first_window_ms = load.stream.event_ms[0] // WINDOW_MS * WINDOW_MS
        with closing_session() as session:
            watch = OutputWatch(keyspace, load.stream, session)
            for fault in faults:
                record, job_id = watch_fault(fault, lab, job_id, watch, first_window_ms, timeout_s, say)
                if job_id not in job_ids:
                    job_ids.append(job_id)
                records.append(record)
                say(f"{time.strftime('%H:%M:%S')} {fault.name}: " + _record_line(record))
        load.stop()
        readings = load.sent.delivered if load.sent else 0
        report = DrillReport(records, readings, load.sent.delivered / load.sent.seconds if load.sent else 0.0,
                             job_ids=job_ids, window_period_s=WINDOW_MS / 1000 * devices / rate)
        say(f"{time.strftime('%H:%M:%S')} load stopped after {readings:,} readings; closing every window and "
            "recomputing the run in batch ...")
        _compare(report, topic, keyspace, job_id, load.stream, say)
        return report
    finally:
        load.stop_event.set()
        for known in job_ids:
            try:
                rest.cancel(known)
            except Exception:
                pass


def _record_line(record: FaultRecord) -> str:
    detected = "absorbed (never detected)" if record.detected_s is None else f"detected after {record.detected_s:.1f} s"
    running = "not running again in time" if record.running_again_s is None else \
        f"running after {record.running_again_s:.1f} s"
    caught = "not caught up in time" if record.caught_up_s is None else f"caught up after {record.caught_up_s:.1f} s"
    return f"{detected}, {running}, {caught}"


def _compare(report: DrillReport, topic: str, keyspace: str, job_id: str, stream: PacedStream, say: Say) -> None:
    """Close every window, recompute, and fill in the report's row counts (per fault and for the whole run)."""
    flush_ms = stream.event_ms[-1] + 3 * 60 * MINUTE_MS
    send_flush_readings(topic, format_epoch_ms(flush_ms))
    # read_topic returns partition after partition; the recomputation replays one arrival order, so the records go
    # back into the order they were produced in (their CreateTime, set by the producer; the stream is in order)
    messages = sorted((message for message in read_topic(topic, timeout_s=600) if message.key != FLUSH_DEVICE.encode()),
                      key=lambda message: (message.timestamp_ms, message.partition, message.offset))
    lines = [message.value for message in messages]
    expected = {"windows": reference.expected_windows(lines, BOUND_MINUTES),
                "alerts": reference.expected_alerts(lines, flush_ms - BOUND_MINUTES * MINUTE_MS),
                "latest": reference.expected_latest(lines)}
    with closing_session() as session:
        def exported() -> dict[str, list[dict]]:
            return without_flush({"windows": export_windows(session, keyspace),
                                  "alerts": export_alerts(session, keyspace),
                                  "latest": export_latest(session, keyspace)})

        actual = exported()
        deadline = time.monotonic() + 180
        while any(len(actual[kind]) < len(expected[kind]) for kind in expected) and time.monotonic() < deadline:
            time.sleep(3)
            actual = exported()
    delivered = Counter((m.key, m.value) for m in read_topic(OutputTopics(topic).alerts) if m.key != b"flush")
    twice = {key for key, count in delivered.items() if count > 1}

    def closed_within(start: float, end: float, end_field: str) -> Callable[[dict], bool]:
        """Rows that closed (their ``end_field`` plus the bound first sent) between ``start`` and ``end``."""
        def owned(row: dict) -> bool:
            closes = timestamp_ms(row[end_field]) + BOUND_MINUTES * MINUTE_MS
            return stream.was_sent(closes) and start <= stream.first_sent(closes) <= end

        return owned

    for record in report.faults:
        start, end = record.injected_at - 1, record.injected_at + (record.caught_up_s or 600)
        owned_alert = closed_within(start, end, "alert_at")
        windows = compare_rows(actual["windows"], expected["windows"], _window_key,
                               closed_within(start, end, "window_end"))
        alerts = compare_rows(actual["alerts"], expected["alerts"], _alert_key, owned_alert)
        record.compared, record.missing, record.different = (a + b for a, b in zip(windows, alerts))
        record.duplicated = sum(1 for _, value in twice if owned_alert(json.loads(value)))
    everything = [compare_rows(actual[kind], expected[kind], key, lambda row: True)
                  for kind, key in (("windows", _window_key), ("alerts", _alert_key),
                                    ("latest", lambda row: (row["device_id"],)))]
    report.compared, report.missing, report.different = (sum(column) for column in zip(*everything))
    report.duplicated = sum(delivered[key] - 1 for key in twice)
    report.rows = {"actual": actual, "expected": expected,
                   "delivered": {"alerts": [value for (_, value), count in delivered.items() for _ in range(count)]}}
