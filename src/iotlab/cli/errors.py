"""How the command line reports a problem the user can fix: one red line, and exit code 1.

Only the course's own errors (``iotlab.core.IotlabError``: what is wrong, and the fix) are turned into
that line. Anything else is a bug and keeps its traceback, so it can be reported and fixed.
"""

from __future__ import annotations

import sys
from functools import wraps

import click

from iotlab.core.errors import IotlabError


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

    return wrapper
