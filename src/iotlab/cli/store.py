"""`iotlab store ...`: the course's Cassandra store: create its tables, drop the course's keyspaces."""

from __future__ import annotations

import click

from iotlab.cli.errors import fail_cleanly
from iotlab.core.errors import OptionError


@click.group()
def store() -> None:
    """The course's Cassandra tables (src/iotlab/cassandra/schema.cql)."""


@store.command("create")
@click.option("--keyspace", default="iotlab", show_default=True, help="Where to create the tables.")
@fail_cleanly
def create(keyspace: str) -> None:
    """Create the keyspace and the course's tables and index (safe to run again)."""
    from iotlab.cassandra import cassandra_session, create_schema
    from iotlab.cassandra.schema import check_keyspace_name

    try:
        check_keyspace_name(keyspace)
    except ValueError as error:
        raise OptionError(f"--keyspace: {error}", "pick a name like iotlab_mine") from None
    session = cassandra_session()
    try:
        statements = create_schema(session, keyspace)
    finally:
        session.cluster.shutdown()
    click.echo(f"{keyspace}: {len(statements)} tables and indexes present")


@store.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@fail_cleanly
def reset(yes: bool) -> None:
    """Drop every keyspace the course made (names starting with "iotlab"), and nothing else."""
    from iotlab.cassandra import cassandra_session, course_keyspaces, reset_course_keyspaces

    session = cassandra_session()
    try:
        keyspaces = course_keyspaces(session)
        if not keyspaces:
            click.echo("no course keyspaces to drop")
            return
        if not yes:
            click.confirm(f"drop {', '.join(keyspaces)}?", abort=True)
        dropped = reset_course_keyspaces(session)
    finally:
        session.cluster.shutdown()
    click.echo(f"dropped {len(dropped)} keyspaces: {', '.join(dropped)}")
