"""How the command line reports a problem the user can fix: one red line, and exit code 1.

Only the course's own errors (``iotlab.core.IotlabError``: what is wrong, and the fix) are turned into
that line. Anything else is a bug and keeps its traceback, so it can be reported and fixed.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from functools import wraps

import click

from iotlab.core.errors import IotlabError
from iotlab.core.processes import end_descendants


def fail_cleanly(command):
    """Print an ``IotlabError`` (and its details, such as a log tail) as ``error: <problem>: <fix>``."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except IotlabError as error:
            if error.details:
                click.echo(error.details, err=True)
            click.secho(f"error: {error}", fg="red", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            # End the Java gateway and its Python workers now, then leave at once: at a normal exit Python first
            # waits for its threads, and a thread still waiting on the gateway (or on a queue it fed) for a running
            # job would keep the command alive (CI: no exit 60 s after Ctrl-C).
            end_descendants()
            click.secho("interrupted: stopped before the end; nothing it started is left running", fg="yellow",
                        err=True)
            exit_now(130)

    return wrapper


def exit_cleanly_on_signals() -> None:
    """Make SIGTERM (``kill``, ``timeout``) end a command as Ctrl-C does, through Python's exit, so that the
    processes it started are ended (by default SIGTERM ends Python at once, skipping exit handlers), and keep
    py4j's logged traceback of an interrupted call off the screen (the interruption itself is reported)."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    logging.getLogger().addFilter(_not_an_interruption)


def exit_now(code: int) -> None:
    """Exit with ``code`` without waiting for this process's threads or running its exit handlers: for an
    interrupted command whose child processes are already ended (``end_descendants``). Output is flushed first."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _exit_on_sigterm(signum, frame) -> None:
    end_descendants()  # now, for the reason fail_cleanly gives
    exit_now(128 + signal.SIGTERM)


def _not_an_interruption(record: logging.LogRecord) -> bool:
    return not (record.exc_info and record.exc_info[0] is KeyboardInterrupt)
