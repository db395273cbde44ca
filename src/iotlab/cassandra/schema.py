"""The course's tables (``schema.cql``), created idempotently in a keyspace, and a reset for the course's
keyspaces only.

The CQL lives in its own file so learners read it as CQL, queries first, one table per query; this
module runs it. Table names in the file carry no keyspace: ``create_schema`` puts each statement in the
keyspace it is given, so notebooks and tests each get their own copy of the store.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from cassandra.cluster import Session

from iotlab.cassandra.session import ensure_keyspace
from iotlab.core.errors import StoreOutdated

SCHEMA_FILE = Path(__file__).with_name("schema.cql")

WINDOWS_TABLE = "windows_by_device_day"
ALERTS_BY_DAY_TABLE = "alerts_by_day"
ALERTS_BY_DEVICE_TABLE = "alerts_by_device_day"
LATEST_READING_TABLE = "latest_reading_by_fleet"
TABLES = (WINDOWS_TABLE, ALERTS_BY_DAY_TABLE, ALERTS_BY_DEVICE_TABLE, LATEST_READING_TABLE)

# Every keyspace the course creates starts with this: a reset drops those and nothing else.
COURSE_KEYSPACE_PREFIX = "iotlab"

_VALID_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def check_keyspace_name(keyspace: str) -> str:
    """The name, if Cassandra accepts it unquoted (letters, digits, _; at most 48), else ValueError."""
    if not _VALID_NAME.match(keyspace):
        raise ValueError(f"{keyspace!r} is not a keyspace name: use lower-case letters, digits and _, at most 48, "
                         "starting with a letter")
    return keyspace


def schema_statements(keyspace: str) -> list[str]:
    """The statements of ``schema.cql``, comments removed, each table and index qualified with ``keyspace``."""
    check_keyspace_name(keyspace)
    text = "\n".join(line.split("--", 1)[0].rstrip() for line in SCHEMA_FILE.read_text().splitlines())
    statements = [statement.strip() for statement in re.split(r"^\s*;\s*$", text, flags=re.MULTILINE)]
    qualified = []
    for statement in filter(None, statements):
        statement = re.sub(r"(CREATE TABLE IF NOT EXISTS) (\w+)", rf"\1 {keyspace}.\2", statement)
        statement = re.sub(r"( ON) (\w+) \(", rf"\1 {keyspace}.\2 (", statement)
        qualified.append(statement)
    return qualified


def table_columns(keyspace: str) -> dict[str, set[str]]:
    """Each table of ``schema.cql`` and the columns it declares (one ``name type`` per line of its body)."""
    found = {}
    for statement in schema_statements(keyspace):
        table = re.match(rf"CREATE TABLE IF NOT EXISTS {keyspace}\.(\w+) \(", statement)
        if table:
            body = statement.split("(", 1)[1].split("PRIMARY KEY", 1)[0]
            found[table.group(1)] = set(re.findall(r"^\s+(\w+)\s+\w+", body, flags=re.MULTILINE))
    return found


def create_schema(session: Session, keyspace: str, replication_factor: Optional[int] = None) -> list[str]:
    """Create the keyspace (if missing) and every table and index of the store; return the statements run.

    Safe to run again: each statement is ``IF NOT EXISTS``. That also means a table an older ``schema.cql``
    created stays as it was: StoreOutdated (with the command that fixes it) when a table lacks a column.
    """
    ensure_keyspace(session, check_keyspace_name(keyspace), replication_factor)
    statements = schema_statements(keyspace)
    for statement in statements:
        session.execute(statement, timeout=60)
    for table, columns in table_columns(keyspace).items():
        existing = {row.column_name for row in session.execute(
            "SELECT column_name FROM system_schema.columns WHERE keyspace_name = %s AND table_name = %s",
            (keyspace, table))}
        missing = sorted(columns - existing)
        if missing:
            raise StoreOutdated(f"{keyspace}.{table} was created by an older version of the course (it has no "
                                f"column {', '.join(missing)})",
                                "drop the course's keyspaces with `iotlab store reset` (or everything with "
                                "`iotlab lab reset`), then run again")
    return statements


def course_keyspaces(session: Session) -> list[str]:
    """The keyspaces the course made (their names start with ``iotlab``), sorted."""
    rows = session.execute("SELECT keyspace_name FROM system_schema.keyspaces")
    return sorted(row.keyspace_name for row in rows if row.keyspace_name.startswith(COURSE_KEYSPACE_PREFIX))


def reset_course_keyspaces(session: Session) -> list[str]:
    """Drop the course's keyspaces, and only those (never ``system*`` or anyone else's); return their names."""
    dropped = course_keyspaces(session)
    for keyspace in dropped:
        session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
    return dropped


def empty_tables(session: Session, keyspace: str) -> None:
    """Create the store in ``keyspace`` if needed, then empty its tables (``TRUNCATE``): a fresh run writes
    into empty tables, so what they hold afterwards is that run's output and nothing older."""
    create_schema(session, keyspace)
    for table in TABLES:
        session.execute(f"TRUNCATE {keyspace}.{table}", timeout=60)
