"""`iotlab store ...`: the course's Cassandra store: create its tables, export them, drop the course's keyspaces."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from iotlab.cli.errors import fail_cleanly
from iotlab.core.errors import OptionError

# The kinds of `store export`, spelled out here so `iotlab --help` need not import the driver; a unit test
# checks they are iotlab.cassandra.EXPORT_KINDS.
EXPORT_KINDS = ("windows", "alerts", "latest")
EXPORT_NOUNS = {"windows": "windows", "alerts": "alerts", "latest": "latest readings"}


def _checked_keyspace(keyspace: str) -> str:
    from iotlab.cassandra.schema import check_keyspace_name

    try:
        return check_keyspace_name(keyspace)
    except ValueError as error:
        raise OptionError(f"--keyspace: {error}", "pick a name like iotlab_mine") from None


@click.group()
def store() -> None:
    """The course's Cassandra tables (src/iotlab/cassandra/schema.cql)."""


@store.command("create")
@click.option("--keyspace", default="iotlab", show_default=True, help="Where to create the tables.")
@click.option("--replication-factor", type=click.IntRange(min=1), default=None,
              help="Replicas of each row, if the keyspace is new (default: one per lab node, up to three).")
@fail_cleanly
def create(keyspace: str, replication_factor: Optional[int]) -> None:
    """Create the keyspace and the course's tables and index (safe to run again)."""
    from iotlab.cassandra import closing_session, create_schema

    _checked_keyspace(keyspace)
    with closing_session() as session:
        statements = create_schema(session, keyspace, replication_factor)
    click.echo(f"{keyspace}: {len(statements)} tables and indexes present")


@store.command("export")
@click.argument("kind", type=click.Choice(EXPORT_KINDS))
@click.option("--keyspace", default="iotlab", show_default=True, help="The keyspace to read.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .jsonl file to write (replaced if it exists).")
@fail_cleanly
def export(kind: str, keyspace: str, out: Path) -> None:
    """Write a table's rows to a file as JSON lines, in the data contract's shapes.

    KIND is windows, alerts or latest (the latest reading of each device). Keys are sorted in each line and
    the rows in a fixed order, so two exports compare with `diff`; `Store.write_windows`, `write_alerts` and
    `write_latest_readings` load a file back.
    """
    from iotlab.cassandra import closing_session, write_export

    _checked_keyspace(keyspace)
    if not out.parent.is_dir():
        raise OptionError(f"--out: folder {out.parent} does not exist", "create it, or write the file elsewhere")
    with closing_session() as session:
        try:
            count = write_export(session, keyspace, kind, out)
        except OSError as error:
            if error.filename is None:  # not the file: let it keep its traceback
                raise
            raise OptionError(f"--out: cannot write {out} ({error.strerror or error})",
                              "pick a file you can write to") from None
    click.echo(f"exported {count} {EXPORT_NOUNS[kind]} to {out}")


@store.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@fail_cleanly
def reset(yes: bool) -> None:
    """Drop every keyspace the course made (names starting with "iotlab"), and nothing else."""
    from iotlab.cassandra import closing_session, course_keyspaces, reset_course_keyspaces

    with closing_session() as session:
        keyspaces = course_keyspaces(session)
        if not keyspaces:
            click.echo("no course keyspaces to drop")
            return
        if not yes:
            click.confirm(f"drop {', '.join(keyspaces)}?", abort=True)
        dropped = reset_course_keyspaces(session)
    click.echo(f"dropped {len(dropped)} keyspaces: {', '.join(dropped)}")
