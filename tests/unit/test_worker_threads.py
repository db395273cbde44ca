"""The thread hook drops the loopback worker's end-of-job hang-up, and only that (iotlab.flink.worker_threads)."""

from __future__ import annotations

import threading

import grpc
import pytest

from iotlab.flink import worker_threads


class CallError(grpc.RpcError):
    """What a gRPC call raises: an RpcError that is also the call, with its status code and details."""

    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(details)
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


def raised_in_thread(error: BaseException, name: str) -> list[str]:
    """Run a thread called ``name`` that raises ``error``; return the names of the errors the previous hook got."""
    seen: list[str] = []
    saved_hook, saved_previous = threading.excepthook, worker_threads._previous_hook
    threading.excepthook = lambda args: seen.append(type(args.exc_value).__name__ + ": " + str(args.exc_value))
    worker_threads._previous_hook = None
    try:
        worker_threads.quiet_worker_hang_ups()

        def fail():
            raise error

        thread = threading.Thread(target=fail, name=name)
        thread.start()
        thread.join()
    finally:
        threading.excepthook, worker_threads._previous_hook = saved_hook, saved_previous
    return seen


def test_the_readers_hang_up_at_the_end_of_a_job_is_dropped():
    hang_up = CallError(grpc.StatusCode.CANCELLED, worker_threads.HANG_UP)
    assert raised_in_thread(hang_up, worker_threads.READER_THREAD) == []


@pytest.mark.parametrize("error, name", [
    (CallError(grpc.StatusCode.CANCELLED, worker_threads.HANG_UP), "some other thread"),
    (CallError(grpc.StatusCode.UNAVAILABLE, "connection refused"), worker_threads.READER_THREAD),
    (CallError(grpc.StatusCode.CANCELLED, "Cancelled by the client"), worker_threads.READER_THREAD),
    (ValueError("a bug in a worker"), worker_threads.READER_THREAD),
    (grpc.RpcError("an RpcError with no status"), worker_threads.READER_THREAD),
])
def test_every_other_error_reaches_the_previous_hook(error, name):
    assert len(raised_in_thread(error, name)) == 1
