"""Keep the one harmless stack trace of an in-process job's Python workers out of the output.

An in-process job (a local mini cluster: `iotlab pipeline run`, `detect`, `aggregate`, the benches) runs its
Python workers in PyFlink's *loopback* mode: Beam's SDK harness runs as threads of this very process, fed by the
JVM over gRPC. When the job ends, the JVM closes the data channel (Beam's "multiplexer") while the worker's
reading thread, ``read_grpc_client_inputs``, still waits on it. That thread then ends with gRPC's CANCELLED
"Multiplexer hanging up", and Python's default thread hook prints its stack trace, after the job has finished and
its results are in. A job that really fails says so through the JVM (``env.execute`` raises), not through this.

:func:`quiet_worker_hang_ups` installs a thread exception hook that drops exactly that exception from exactly that
thread and hands every other one to the hook it replaced.
"""

from __future__ import annotations

import threading

import grpc

READER_THREAD = "read_grpc_client_inputs"  # apache_beam.runners.worker.data_plane's name for the thread
HANG_UP = "Multiplexer hanging up"  # the JVM side's reason when it closes the channel at the job's end

_previous_hook = None


def is_worker_hang_up(args: "threading.ExceptHookArgs") -> bool:
    """True for the reading thread's CANCELLED "Multiplexer hanging up", and for nothing else."""
    error = args.exc_value
    if args.thread is None or args.thread.name != READER_THREAD or not isinstance(error, grpc.RpcError):
        return False
    try:
        return error.code() == grpc.StatusCode.CANCELLED and error.details() == HANG_UP
    except Exception:  # an RpcError that is not a call's outcome has no code() or details()
        return False


def _hook(args: "threading.ExceptHookArgs") -> None:
    if not is_worker_hang_up(args):
        _previous_hook(args)


def quiet_worker_hang_ups() -> None:
    """Install the hook (once per process)."""
    global _previous_hook
    if _previous_hook is None:
        _previous_hook = threading.excepthook
        threading.excepthook = _hook
