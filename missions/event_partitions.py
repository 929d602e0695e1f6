"""The DDL of the event log's monthly partitions (Postgres only). Plain SQL on a cursor and no
model imports, so migration 0010 can use it as it is today.

`missions_event` is `PARTITION BY RANGE (received_at)`: one partition per UTC month, named
`missions_event_yYYYYmMM`, plus `missions_event_default`, a safety net for rows whose month
has no partition yet (a test that pins an old arrival time, a beat that was down for months).
Creating a month's partition moves that month's rows out of the default partition, so
`event_log_maintain` (missions/services/event_log.py) empties it on its next run.

Every statement is conditional (IF NOT EXISTS, "is it still attached?"), so running any of
this twice changes nothing; the caller holds a lock so two runs never interleave.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PARENT = "missions_event"
DEFAULT = "missions_event_default"
_NAME = re.compile(r"^missions_event_y(\d{4})m(\d{2})$")


def month_start(instant: datetime) -> datetime:
    utc = instant.astimezone(UTC)
    return datetime(utc.year, utc.month, 1, tzinfo=UTC)


def add_months(month: datetime, months: int) -> datetime:
    index = month.year * 12 + month.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime  # inclusive
    end: datetime  # exclusive

    @classmethod
    def for_month(cls, month: datetime) -> Partition:
        start = month_start(month)
        return cls(f"{PARENT}_y{start.year:04d}m{start.month:02d}", start, add_months(start, 1))


def _literal(instant: datetime) -> str:
    # A datetime we made ourselves, never user input: safe to inline into DDL.
    return "'" + instant.astimezone(UTC).isoformat() + "'"


def is_partitioned(cursor: Any) -> bool:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [PARENT])
    row = cursor.fetchone()
    return bool(row and row[0] == "p")


def attached(cursor: Any) -> list[Partition]:
    """The monthly partitions attached now, oldest first (the default one is not listed)."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(%s)",
        [PARENT],
    )
    found = []
    for (name,) in cursor.fetchall():
        match = _NAME.match(name)
        if match:
            found.append(Partition.for_month(datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)))
    return sorted(found, key=lambda p: p.start)


def default_months(cursor: Any) -> list[datetime]:
    """The months that have rows waiting in the default partition."""
    cursor.execute(
        f"SELECT DISTINCT date_trunc('month', received_at AT TIME ZONE 'UTC') FROM {DEFAULT}"
    )
    return sorted(month.replace(tzinfo=UTC) for (month,) in cursor.fetchall())


def create(cursor: Any, partition: Partition) -> bool:
    """Create (or fill from the default partition) one month; False when it existed."""
    if partition in attached(cursor):
        return False
    bounds = f"FROM ({_literal(partition.start)}) TO ({_literal(partition.end)})"
    where = (
        f"received_at >= {_literal(partition.start)} AND received_at < {_literal(partition.end)}"
    )
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {DEFAULT} WHERE {where})")
    if not cursor.fetchone()[0]:
        cursor.execute(f"CREATE TABLE {partition.name} PARTITION OF {PARENT} FOR VALUES {bounds}")
        return True
    # Postgres refuses a new partition while the default one holds rows of its range: build
    # the month as a plain table, move the rows over, then attach it (which adds the indexes).
    cursor.execute(
        f"CREATE TABLE {partition.name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    )
    cursor.execute(
        f"WITH moved AS (DELETE FROM {DEFAULT} WHERE {where} RETURNING *) "
        f"INSERT INTO {partition.name} SELECT * FROM moved"
    )
    cursor.execute(f"ALTER TABLE {PARENT} ATTACH PARTITION {partition.name} FOR VALUES {bounds}")
    return True


def detach(cursor: Any, partition: Partition, *, drop: bool) -> bool:
    """Detach one month (and drop it unless it is kept); False when it was not attached."""
    if partition not in attached(cursor):
        return False
    cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {partition.name}")
    if drop:
        # Rows inserted earlier in this transaction (tests) leave deferred foreign-key checks
        # that block a DROP: run them now, then defer again as Django's constraints are.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DROP TABLE {partition.name}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return True


# The partitioned table, built in migration 0010 from the plain one (same columns): the real
# primary key must contain the partition key, and Postgres 15 has no identity columns on
# partitioned tables, so `id` draws from a sequence the table owns.
PARTITIONED_DDL = [
    f"CREATE TABLE {PARENT} (LIKE {PARENT}_plain INCLUDING DEFAULTS) "
    "PARTITION BY RANGE (received_at)",
    f"CREATE SEQUENCE {PARENT}_seq OWNED BY {PARENT}.id",
    f"ALTER TABLE {PARENT} ALTER COLUMN id SET DEFAULT nextval('{PARENT}_seq')",
    f"ALTER TABLE {PARENT} ADD CONSTRAINT {PARENT}_pkey PRIMARY KEY (id, received_at)",
    f"CREATE TABLE {DEFAULT} PARTITION OF {PARENT} DEFAULT",
    f"CREATE INDEX event_user_seq ON {PARENT} (user_id, id)",
    f"CREATE INDEX event_action_time ON {PARENT} (action, occurred_at)",
    f"CREATE INDEX event_received ON {PARENT} (received_at)",
]
