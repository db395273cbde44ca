"""Writing rows to Cassandra with prepared statements."""

from __future__ import annotations

from cassandra.cluster import Session


def insert_rows(session: Session, table: str, rows: list[dict]) -> int:
    """Upsert ``rows`` (dicts with the same keys) into ``table`` with one prepared statement.

    Cassandra's INSERT is an upsert: running it twice with the same primary keys leaves the same
    table, which is what makes a re-run notebook (or a replayed stream) idempotent.
    """
    if not rows:
        return 0
    columns = list(rows[0])
    statement = session.prepare(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    )
    for row in rows:
        # pandas hands out numpy scalars; the driver wants plain Python numbers.
        values = [row[column].item() if hasattr(row[column], "item") else row[column] for column in columns]
        session.execute(statement, values)
    return len(rows)
