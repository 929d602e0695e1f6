"""Interleaving two real transactions at an exact point: one holds its locks, the other is
started, and the test waits until Postgres shows the second one waiting for a lock."""

from __future__ import annotations

import time

from django.db import connection


def backend_pid() -> int:
    """This thread's Postgres backend (opens the thread's connection)."""
    connection.ensure_connection()
    return int(connection.connection.info.backend_pid)


def wait_until_blocked_on_a_lock(pid: int, timeout: float = 20.0) -> None:
    """Poll pg_stat_activity until backend `pid` waits for a lock (row or unique index)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} never waited for a lock")
