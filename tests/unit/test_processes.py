"""iotlab.core.processes on real processes (no lab): what is ended, what is spared, and why an orphan is found."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import psutil

from iotlab.core.processes import end_processes, is_python_worker, own_session, process_tree

IGNORES_SIGTERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); " \
                  "time.sleep(600)"


def start_python(code: str, **options) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, **options)
    assert process.stdout.readline().strip() == "ready"
    return process


def test_end_processes_kills_what_ignores_sigterm_and_wakes_what_is_stopped():
    stubborn = start_python(IGNORES_SIGTERM)
    stopped = start_python("import time; print('ready', flush=True); time.sleep(600)")
    psutil.Process(stopped.pid).suspend()
    started = time.monotonic()
    ended = end_processes([psutil.Process(stubborn.pid), psutil.Process(stopped.pid)], timeout_s=1)
    codes = {process.pid: process.returncode for process in ended}  # psutil reaped them: their exit codes
    assert codes == {stubborn.pid: -9, stopped.pid: -15}  # SIGKILL after the timeout; SIGTERM, once resumed
    assert time.monotonic() - started < 8


def test_a_child_in_a_session_of_its_own_is_not_ours_to_end():
    """What end_descendants() keeps: a lab service is started with start_new_session=True."""
    ours = start_python("import time; print('ready', flush=True); time.sleep(600)")
    service = start_python("import time; print('ready', flush=True); time.sleep(600)", start_new_session=True)
    try:
        kept = own_session(process_tree(os.getpid())[1:], os.getsid(0))
        assert ours.pid in {process.pid for process in kept}
        assert service.pid not in {process.pid for process in kept}
    finally:
        ours.kill()
        service.kill()
        ours.wait()
        service.wait()


def test_a_subreaper_ends_the_orphans_of_a_dead_child_when_it_exits():
    """A parent that dies without ending its child (a JVM killed with SIGKILL) leaves an orphan: re-parented to the
    subreaper, which ends it at exit, instead of to process 1, where it would run on."""
    script = textwrap.dedent("""
        import subprocess, sys
        from iotlab.core.processes import end_children_at_exit
        end_children_at_exit()
        # A middle process that starts a grandchild and dies at once, without ending it.
        middle = subprocess.run([sys.executable, "-c",
            "import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], "
            "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(p.pid)"], capture_output=True, text=True)
        orphan = int(middle.stdout)
        import psutil
        print(orphan, psutil.Process(orphan).ppid() == __import__('os').getpid(), flush=True)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    orphan, adopted = result.stdout.split()
    assert adopted == "True", result.stderr  # re-parented to the subreaper, not to process 1
    time.sleep(0.2)
    assert not psutil.pid_exists(int(orphan)) or psutil.Process(int(orphan)).status() == psutil.STATUS_ZOMBIE


def test_a_python_worker_is_told_by_its_command_line():
    worker = subprocess.Popen(["bash", "-c", "sleep 600; true", "pyflink-udf-runner.sh"])
    plain = subprocess.Popen(["bash", "-c", "sleep 600; true", "something-else.sh"])
    try:
        assert is_python_worker(psutil.Process(worker.pid))
        assert not is_python_worker(psutil.Process(plain.pid))
    finally:
        worker.kill()
        plain.kill()
        worker.wait()
        plain.wait()
