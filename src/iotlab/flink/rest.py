"""Small helpers over the Flink REST API of the lab's session cluster (what the Web UI shows).

Reference: https://nightlies.apache.org/flink/flink-docs-stable/docs/ops/rest_api/
Each helper is one or two documented calls; waiting helpers poll until a condition holds or a timeout
says clearly what did not happen.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Callable, Optional

import requests

from iotlab.core.errors import JobFailed, ServiceTimeout
from iotlab.core.settings import load_settings

TERMINAL_STATES = {"FINISHED", "FAILED", "CANCELED"}


def rest_url() -> str:
    return load_settings().flink_rest_url


def job_details(job_id: str, url: Optional[str] = None) -> dict:
    """``GET /jobs/<id>``: state, vertices (operators) and their states."""
    response = requests.get(f"{url or rest_url()}/jobs/{job_id}", timeout=10)
    response.raise_for_status()
    return response.json()


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.5) -> None:
    """Poll ``condition`` until it is true; ServiceTimeout naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise ServiceTimeout(f"{what} did not happen within {timeout_s:.0f} s",
                                 "look at the job in the Flink Web UI (http://127.0.0.1:8081) "
                                 "or `iotlab lab logs flink`")
        time.sleep(interval_s)


def wait_for_running(job_id: str, timeout_s: float = 120, url: Optional[str] = None) -> None:
    """Until the job and every one of its operators run (a savepoint needs all of them running)."""
    def running() -> bool:
        details = job_details(job_id, url)
        if details["state"] in TERMINAL_STATES:
            raise JobFailed(f"job {job_id} ended as {details['state']} instead of running "
                            f"(last failure: {last_failure(job_id, url)})",
                            "see its exceptions in the Flink Web UI (http://127.0.0.1:8081)")
        return details["state"] == "RUNNING" and all(v["status"] == "RUNNING" for v in details["vertices"])

    wait_until(running, timeout_s, f"job {job_id} running")


def wait_for_state(job_id: str, states: set[str], timeout_s: float = 120, url: Optional[str] = None) -> str:
    """Until the job is in one of ``states``; returns that state."""
    wait_until(lambda: job_details(job_id, url)["state"] in states, timeout_s, f"job {job_id} {sorted(states)}")
    return job_details(job_id, url)["state"]


def cancel(job_id: str, url: Optional[str] = None) -> None:
    """``PATCH /jobs/<id>?mode=cancel``, then wait until it is CANCELED (or already over)."""
    if job_details(job_id, url)["state"] not in TERMINAL_STATES:
        response = requests.patch(f"{url or rest_url()}/jobs/{job_id}", params={"mode": "cancel"}, timeout=10)
        if response.status_code != 409:  # 409: it is already on its way to an end (e.g. just stopped)
            response.raise_for_status()
    wait_for_state(job_id, TERMINAL_STATES, url=url)


def checkpoints(job_id: str, url: Optional[str] = None) -> dict:
    """``GET /jobs/<id>/checkpoints``: counts, the latest completed checkpoint, state sizes."""
    response = requests.get(f"{url or rest_url()}/jobs/{job_id}/checkpoints", timeout=10)
    response.raise_for_status()
    return response.json()


NOT_RUNNING_YET = "a task was not running (the job was still starting, or already finishing): not triggered"


def failed_checkpoint_reasons(job_id: str, url: Optional[str] = None) -> Counter:
    """Why the job's failed checkpoints (``counts.failed`` of ``checkpoints``) failed, counted by reason.

    Two places hold the reasons. A checkpoint that started and then failed is in the checkpoint history with
    its ``failure_message`` (the history keeps only the newest ``web.checkpoints.history`` entries, 10 by
    default). A checkpoint that could not even be *triggered* never enters the history: typically the
    coordinator's timer fires while the job's tasks are still being deployed (PyFlink's Python workers take
    seconds to start) or after some have finished. The JobManager logs those (``GET /jobmanager/log``), and
    this helper reads them there."""
    base = url or rest_url()
    reasons: Counter = Counter()
    for entry in checkpoints(job_id, base).get("history", []):
        if entry.get("status") == "FAILED":
            reasons[(entry.get("failure_message") or "unknown").splitlines()[0][:200]] += 1
    response = requests.get(f"{base}/jobmanager/log", timeout=10)
    response.raise_for_status()
    for line in response.text.splitlines():
        if f"Failed to trigger checkpoint for job {job_id} since" in line:
            not_running = "is not being executed at the moment" in line
            reasons[NOT_RUNNING_YET if not_running else line.split(" since ", 1)[1][:200]] += 1
    return reasons


def exception_history(job_id: str, url: Optional[str] = None) -> list[dict]:
    """``GET /jobs/<id>/exceptions``: one entry per failure of the job."""
    response = requests.get(f"{url or rest_url()}/jobs/{job_id}/exceptions", timeout=10)
    response.raise_for_status()
    return response.json()["exceptionHistory"]["entries"]


def last_failure(job_id: str, url: Optional[str] = None) -> str:
    """The root cause of the job's newest failure, in one line: the last ``Caused by`` of its stack trace, or
    its first line."""
    entries = exception_history(job_id, url)
    if not entries:
        return "none recorded"
    newest = max(entries, key=lambda entry: entry.get("timestamp", 0))
    lines = newest.get("stacktrace", "").splitlines() or [newest.get("exceptionName", "unknown")]
    causes = [line.removeprefix("Caused by: ") for line in lines if line.startswith("Caused by:")]
    root = causes[-1] if causes else lines[0]
    return f"{root} in {newest.get('taskName') or 'the job'}"


def cluster_configuration(url: Optional[str] = None) -> dict[str, str]:
    """``GET /jobmanager/config``: the session cluster's configuration as a dict."""
    response = requests.get(f"{url or rest_url()}/jobmanager/config", timeout=10)
    response.raise_for_status()
    return {entry["key"]: entry["value"] for entry in response.json()}


def jobs_overview(url: Optional[str] = None) -> list[dict]:
    """``GET /jobs/overview``: every job the cluster knows (id ``jid``, ``name``, ``state``, times), newest first."""
    response = requests.get(f"{url or rest_url()}/jobs/overview", timeout=10)
    response.raise_for_status()
    return sorted(response.json()["jobs"], key=lambda job: job["start-time"], reverse=True)


def stop_with_savepoint(job_id: str, drain: bool = False, timeout_s: float = 120, url: Optional[str] = None) -> str:
    """``POST /jobs/<id>/stop``: take a savepoint and stop the job; return the savepoint's path.

    ``drain=True`` first sends the end-of-time watermark, so every window and timer fires (use it when the
    job will not be resumed; a resumed job would see those results fire twice)."""
    base = url or rest_url()
    response = requests.post(f"{base}/jobs/{job_id}/stop", json={"drain": drain}, timeout=10)
    response.raise_for_status()
    request_id = response.json()["request-id"]
    found: dict = {}

    def completed() -> bool:
        found.update(requests.get(f"{base}/jobs/{job_id}/savepoints/{request_id}", timeout=10).json())
        return found.get("status", {}).get("id") == "COMPLETED"

    wait_until(completed, timeout_s, f"the savepoint of job {job_id}")
    operation = found.get("operation", {})
    if "failure-cause" in operation:
        raise JobFailed(f"the savepoint of job {job_id} failed: {operation['failure-cause'].get('class')}",
                        "see the job's exceptions in the Flink Web UI (http://127.0.0.1:8081)")
    return operation["location"]


def vertex_metrics(job_id: str, url: Optional[str] = None) -> list[dict]:
    """Per operator (vertex) of a job: name, records in/out so far, its input watermark and whether it is
    backpressured (what the Web UI's job graph shows), from ``GET /jobs/<id>`` and the vertex metrics."""
    base = url or rest_url()
    rows = []
    for vertex in job_details(job_id, base)["vertices"]:
        metrics = vertex.get("metrics", {})
        watermark = requests.get(f"{base}/jobs/{job_id}/vertices/{vertex['id']}/watermarks", timeout=10).json()
        pressure = requests.get(f"{base}/jobs/{job_id}/vertices/{vertex['id']}/backpressure", timeout=10).json()
        rows.append({"operator": vertex["name"][:60], "records_in": metrics.get("read-records", 0),
                     "records_out": metrics.get("write-records", 0),
                     "watermark_ms": min((int(w["value"]) for w in watermark), default=None),
                     "backpressure": pressure.get("backpressureLevel", "unknown")})
    return rows
