"""No process outlives the command that started it.

A PyFlink program starts a Java gateway (the JVM that runs an in-process job), and the JVM starts one Python
worker per Python operator: ``pyflink-udf-runner.sh`` and its child ``python -m
pyflink.fn_execution.beam.beam_boot``, each serving gRPC on a port of its own. When the program ends normally
the JVM ends its workers. When a JVM dies without that goodbye (a TaskManager killed with SIGKILL, a gateway
killed by the out-of-memory killer) its workers are re-parented to process 1 and run on, holding their ports,
until someone ends them. Three defences, one per place a worker can come from:

- ``end_children_at_exit()``: a Python process that starts a gateway (every ``iotlab`` command that runs a job,
  and every notebook kernel that does) becomes a *child subreaper* (Linux ``prctl(PR_SET_CHILD_SUBREAPER)``):
  orphans among its descendants are re-parented to it instead of to process 1, so that, when it exits, it can
  still find and end them. Descendants in sessions of their own (the lab's services, which a notebook may
  restart) are left alone.
- ``process_tree()``: the lab kills a TaskManager together with its workers, as a container dies with
  everything in it.
- ``orphaned_python_workers()``: what ``iotlab lab down`` ends, PyFlink workers of this Python installation whose
  parent is gone.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import sys
from typing import Iterable

import psutil

# prctl(2) option number from <linux/prctl.h>.
PR_SET_CHILD_SUBREAPER = 36
# How a PyFlink Python worker shows in the process table: the shell script and the Beam boot module.
PYTHON_WORKER_MARKS = ("pyflink-udf-runner", "pyflink.fn_execution.beam.beam_boot")

_ending_at_exit = False


def become_subreaper() -> bool:
    """Make orphaned descendants of this process its children instead of process 1's (Linux only). Returns
    whether it worked: elsewhere nothing changes, and descendants are still ended while their parents live."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def end_children_at_exit() -> None:
    """Become a subreaper and, when this Python process exits (normally, on an error or on Ctrl-C), end every
    descendant that shares its session: the Java gateway and the Python workers under it. Idempotent.

    The handler is registered the first time a Flink environment is made, before PyFlink registers its own
    shutdown of the gateway, so it runs after it (``atexit`` runs handlers last-registered first).
    """
    global _ending_at_exit
    if _ending_at_exit:
        return
    _ending_at_exit = True
    become_subreaper()
    atexit.register(end_descendants)


def end_descendants(timeout_s: float = 10.0) -> list[psutil.Process]:
    """End this process's descendants that share its session (SIGTERM, then SIGKILL after ``timeout_s``) and
    return them. A descendant that started a session of its own (``start_new_session=True``: the lab's services)
    is not ours to end, nor is anything under it."""
    session = os.getsid(0)
    return end_processes(own_session(process_tree(os.getpid())[1:], session), timeout_s)


def own_session(processes: Iterable[psutil.Process], session: int) -> list[psutil.Process]:
    """The processes of ``processes`` in session ``session``."""
    kept = []
    for process in processes:
        try:
            if os.getsid(process.pid) == session:
                kept.append(process)
        except (OSError, psutil.Error):
            continue
    return kept


def process_tree(pid: int) -> list[psutil.Process]:
    """The process ``pid`` and all its descendants, parents before children (empty if it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root] + root.children(recursive=True)
    except psutil.Error:
        return []


def end_processes(processes: list[psutil.Process], timeout_s: float = 10.0,
                  first_signal: int = signal.SIGTERM) -> list[psutil.Process]:
    """Send ``first_signal`` to each process, SIGKILL those alive after ``timeout_s``, wait until all are gone
    (reaping those that are our children) and return the processes that were running."""
    running = []
    for process in processes:
        try:
            process.send_signal(first_signal)
            if first_signal != signal.SIGKILL:
                process.resume()  # SIGCONT: a stopped (hung, or paused) process acts on the signal only when resumed
            running.append(process)
        except psutil.Error:
            continue
    _, alive = psutil.wait_procs(running, timeout=timeout_s)
    for process in alive:
        try:
            process.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(alive, timeout=5)
    return running


def is_python_worker(process: psutil.Process) -> bool:
    """Whether ``process`` is a PyFlink Python worker (the runner script or its Beam boot process)."""
    try:
        command = " ".join(process.cmdline())
    except psutil.Error:
        return False
    return any(mark in command for mark in PYTHON_WORKER_MARKS)


def orphaned_python_workers(prefix: str = sys.prefix) -> list[psutil.Process]:
    """PyFlink workers of the Python installation at ``prefix`` whose parent is gone (re-parented to process 1,
    or to a subreaper that is not a JVM): nothing will use them again. A runner's own Beam boot child is
    returned with it."""
    orphans = []
    for process in psutil.process_iter():
        try:
            if not is_python_worker(process) or prefix not in " ".join(process.cmdline()):
                continue
            parent = process.parent()
            if parent is None or parent.pid == 1 or not _is_worker_parent(parent):
                orphans += process_tree(process.pid)
        except psutil.Error:
            continue
    return orphans


def _is_worker_parent(parent: psutil.Process) -> bool:
    """A live worker's parent is the JVM that started it (``java``) or, for a Beam boot process, its runner."""
    try:
        return parent.name() == "java" or is_python_worker(parent)
    except psutil.Error:
        return False


def describe(processes: Iterable[psutil.Process]) -> str:
    """``pid name`` for each process, comma-separated: for messages that say what was ended or left."""
    parts = []
    for process in processes:
        try:
            name = "Python worker" if is_python_worker(process) else process.name()
        except psutil.Error:
            name = "exited"
        parts.append(f"{process.pid} {name}")
    return ", ".join(parts)
