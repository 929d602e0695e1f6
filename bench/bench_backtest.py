"""Backtest ("Test mission") on a million recorded events: seconds to run a draft over them.

BENCH_BACKTEST_EVENTS events (default 1,000,000) from BENCH_BACKTEST_USERS players (default
10,000) over the last 14 days, inserted once with generate_series. Two drafts: a combo over
four actions (reads every event) and a daily count of long posts (reads the posts only).
The baseline is reading the same rows and columns without folding them (the I/O
floor), same run.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from missions.models import Event
from missions.services.backtest import template_backtest
from missions.validation import validate_template

EVENTS = int(os.environ.get("BENCH_BACKTEST_EVENTS", "1000000"))
USERS = int(os.environ.get("BENCH_BACKTEST_USERS", "10000"))
DAYS = 14
# Player k gets events n with n * 7919 = k (mod players); the action follows n // 7, so
# each player sends every action.
PREFIX = "bbu-"

COMBO = {
    "key": "bench_combo",
    "name": "Busy day",
    "category": "engagement",
    "type": "combo",
    "period_type": "daily",
    "requirements": {
        "posts": {"action": "post:created", "target": 2, "label": "2 posts"},
        "reactions": {"action": "reaction:added", "target": 2, "label": "2 reactions"},
        "tips": {"action": "tip:sent", "target": 1, "label": "a tip"},
        "shouts": {"action": "shoutbox:message", "target": 1, "label": "a shout"},
    },
    "rewards": {"xp": 40, "dgt": "2.5"},
}
POSTS = {
    "key": "bench_posts",
    "name": "Quality poster",
    "category": "content",
    "type": "count",
    "period_type": "daily",
    "requirements": {
        "p": {
            "action": "post:created",
            "target": 3,
            "label": "3 long posts",
            "where": {"content_length": {"gte": 100}},
        }
    },
    "rewards": {"xp": 50, "dgt": "10"},
}


def _ensure_events(now) -> list[int]:  # type: ignore[no-untyped-def]
    User = get_user_model()
    have = User.objects.filter(username__startswith="bbt").count()
    if have < USERS:
        User.objects.bulk_create(
            [User(username=f"bbt{i:06d}") for i in range(have, USERS)], batch_size=10_000
        )
    ids = list(
        User.objects.filter(username__startswith="bbt")
        .order_by("pk")
        .values_list("pk", flat=True)[:USERS]
    )
    if Event.objects.filter(event_id__startswith=PREFIX).count() >= EVENTS:
        return ids
    # "bbt-" events (before 2026-11-30) gave each player one action only: replaced.
    Event.objects.filter(event_id__regex=r"^bb[tu]-").delete()
    start = now - timedelta(days=DAYS)
    with connection.cursor() as cursor:
        # A million rows in one statement outlasts the 30 s production statement timeout.
        cursor.execute("SET statement_timeout = 0")
        cursor.execute(
            """
            INSERT INTO missions_event (event_id, user_id, action, occurred_at, data, received_at)
            SELECT %s || n, u.ids[1 + (n * 7919) %% cardinality(u.ids)],
                   a.action, t.at, a.data, t.at
            FROM generate_series(1::bigint, %s::bigint) AS n
            CROSS JOIN (SELECT %s::bigint[] AS ids) AS u
            CROSS JOIN LATERAL (
                SELECT %s::timestamptz + (n::float / %s) * (%s::timestamptz - %s::timestamptz) AS at
            ) AS t
            CROSS JOIN LATERAL (
                SELECT CASE
                    WHEN (n / 7) %% 20 < 8 THEN 'post:created'
                    WHEN (n / 7) %% 20 < 14 THEN 'reaction:added'
                    WHEN (n / 7) %% 20 < 17 THEN 'tip:sent'
                    ELSE 'shoutbox:message' END AS action,
                CASE
                    WHEN (n / 7) %% 20 < 8 THEN jsonb_build_object(
                        'content_length', (n * 37) %% 300, 'forum_id', n %% 10)
                    WHEN (n / 7) %% 20 < 14 THEN jsonb_build_object('reaction', 'like')
                    WHEN (n / 7) %% 20 < 17 THEN jsonb_build_object('amount', (n %% 50) + 1)
                    ELSE jsonb_build_object('length', n %% 80) END AS data
            ) AS a
            """,
            [PREFIX, EVENTS, ids, start, EVENTS, now, start],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE missions_event")
    return ids


def _read_only(template: dict, now) -> tuple[float, int]:  # type: ignore[no-untyped-def,type-arg]
    """The I/O floor: the same rows and columns through the same server-side cursor."""
    actions = sorted({r["action"] for r in template["requirements"].values()})
    needs_data = any(r.get("where") or r.get("field") for r in template["requirements"].values())
    columns = ["id", "user_id", "action", "occurred_at", "received_at"]
    columns += ["data"] if needs_data else []
    query = (
        Event.objects.filter(
            action__in=actions, occurred_at__gte=now - timedelta(days=DAYS), occurred_at__lt=now
        )
        .order_by("id")
        .values_list(*columns)
    )
    sql, params = query.query.sql_with_params()
    started = time.perf_counter()
    rows = 0
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(20_000):
            rows += len(chunk)
    return time.perf_counter() - started, rows


def run() -> dict:
    now = timezone.now().replace(microsecond=0)
    _ensure_events(now)
    now = Event.objects.filter(event_id__startswith=PREFIX).latest("occurred_at").occurred_at
    now += timedelta(seconds=1)
    out: dict = {}
    for label, data in (("combo", COMBO), ("posts", POSTS)):
        template = validate_template(dict(data))
        cpu = time.process_time()
        result = template_backtest(template=template, days=DAYS, now=now)
        cpu = time.process_time() - cpu
        read_seconds, rows = _read_only(template, now)
        out[label] = {
            "seconds": round(result.seconds, 2),
            # this process's CPU (the machine is shared: wall time swings with its load)
            "cpu_seconds": round(cpu, 2),
            "events_read": result.events_read,
            "players": result.players,
            "completion_rate": round(result.completion_rate, 4),
            "read_only_seconds": round(read_seconds, 2),
            "rows": rows,
        }
    combo = out["combo"]
    return {
        "name": "backtest",
        "unit": "s for the combo draft over all events",
        "value": combo["seconds"],
        "baseline": combo["read_only_seconds"],
        "baseline_is": "reading the same rows without folding",
        "ratio": round(combo["seconds"] / combo["read_only_seconds"], 2),
        "events": EVENTS,
        "users": USERS,
        "drafts": out,
    }
