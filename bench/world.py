# ruff: noqa: E501
"""The benchmark world: players, 20 templates of every type, N missions per player, events.

Built with set-based SQL (no ORM loops) so 100,000 players x 15 missions take seconds. All
bench templates are perpetual and inactive (so lazy assignment adds nothing): each player has
exactly the first `missions` templates assigned, the shape the issue describes.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection

from missions.models import PERPETUAL_START, MissionTemplate
from missions.validation import validate_template

BIG = 10**9


def _req(action: str, target: int, **extra: Any) -> dict[str, Any]:
    return {"action": action, "target": target, "label": f"{action} x{target}", **extra}


# In this order: the first k are a player's k missions (1, 5, 15, 20).
TEMPLATES: list[dict[str, Any]] = [
    {"type": "count", "requirements": {"p": _req("post:created", 50, where={"content_length": {"gte": 100}})}},
    {"type": "unique", "requirements": {"f": _req("post:created", 25, field="forum_id")}},
    {"type": "threshold", "requirements": {"t": _req("tip:sent", 450, field="amount")}},
    {"type": "streak", "requirements": {"d": _req("shoutbox:message", 30)}},
    {"type": "competitive", "requirements": {"s": _req("post:created", BIG)},
     "metadata": {"reward_tiers": [{"rank_to": 10, "rewards": {"xp": 1}}]}},
    {"type": "count", "requirements": {"r": _req("reaction:added", 40)}},
    {"type": "timebound", "requirements": {"p": _req("post:created", 30)},
     "metadata": {"time_limit_minutes": 525_600}},
    {"type": "combo", "requirements": {"a": _req("thread:created", 2), "b": _req("post:created", 20)},
     "metadata": {"ordered": True, "order": ["a", "b"]}},
    {"type": "count", "requirements": {"a": _req("tip:sent", 5000, field="amount")}},
    {"type": "unique", "requirements": {"u": _req("user:followed", 10, field="to_user_id")}},
    {"type": "count", "requirements": {"m": _req("shoutbox:message", 100)}},
    {"type": "threshold", "requirements": {"l": _req("post:created", 990, field="content_length")}},
    {"type": "unique", "requirements": {"u": _req("reaction:added", 20, field="to_user_id")}},
    {"type": "streak", "requirements": {"w": _req("post:created", 8, unit="week")}},
    {"type": "count", "requirements": {"t": _req("thread:created", 15)}},
    {"type": "count", "requirements": {"f": _req("post:created", 30, where={"forum_id": {"in": [1, 2, 3, 4, 5]}})}},
    {"type": "combo", "requirements": {"t": _req("tip:sent", 5), "r": _req("reaction:added", 10)}},
    {"type": "count", "requirements": {"m": _req("post:created", 10, where={"has_media": {"eq": True}})}},
    {"type": "competitive", "requirements": {"s": _req("tip:sent", BIG, field="amount")},
     "metadata": {"reward_tiers": [{"rank_to": 10, "rewards": {"xp": 1}}]}},
    {"type": "unique", "requirements": {"k": _req("reaction:added", 6, field="reaction")}},
]  # fmt: skip

# Event mix: posts dominate, like on a forum.
ACTIONS = [
    ("post:created", 45),
    ("reaction:added", 25),
    ("shoutbox:message", 12),
    ("tip:sent", 8),
    ("thread:created", 6),
    ("user:followed", 4),
]


def ensure_templates() -> list[int]:
    """The bench templates (inactive: lazy assignment must not add missions); their ids."""
    ids = []
    for n, raw in enumerate(TEMPLATES):
        data = {
            "key": f"bench_{n:02d}",
            "name": f"Bench {n} ({raw['type']})",
            "category": "engagement",
            "period_type": "perpetual",
            "rewards": {"xp": 10, "dgt": "1"},
            **raw,
        }
        cleaned = validate_template(data)
        cleaned["is_active"] = False
        template, _ = MissionTemplate.objects.update_or_create(key=cleaned["key"], defaults=cleaned)
        ids.append(template.pk)
    # Nothing else may be drawn by lazy assignment either.
    MissionTemplate.objects.exclude(pk__in=ids).update(is_active=False)
    return ids


def ensure_players(count: int) -> list[int]:
    """At least `count` bench players (bulk SQL); the first `count` ids."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM auth_user WHERE username LIKE 'bp%%'")
        have = cursor.fetchone()[0]
        if have < count:
            cursor.execute(
                """
                INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                       email, is_staff, is_active, date_joined)
                SELECT '!', false, 'bp' || lpad(g::text, 8, '0'), '', '', '', false, true, now()
                FROM generate_series(%s, %s - 1) AS g
                ON CONFLICT (username) DO NOTHING
                """,
                [have, count],
            )
        cursor.execute(
            "SELECT id FROM auth_user WHERE username LIKE 'bp%%' ORDER BY id LIMIT %s", [count]
        )
        return [row[0] for row in cursor.fetchall()]


def reset_state() -> None:
    """Empty the event log and every mission (the bench database is the bench's own)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE missions_progressvalue, missions_missionprogress, missions_activemission, "
            "missions_event, missions_eventkey CASCADE"
        )
    cache.clear()  # the bench Redis DB is the bench's own too


def assign(player_ids: list[int], template_ids: list[int], missions: int) -> int:
    """Give each player the first `missions` templates, perpetual, assigned 30 days ago."""
    chosen = template_ids[:missions]
    assigned_at = datetime.now(UTC) - timedelta(days=30)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO missions_activemission (template_id, user_id, period_type, period_start,
                                                period_end, assigned_at, state)
            SELECT t, u, 'perpetual', %s, NULL, %s, 'active'
            FROM unnest(%s::bigint[]) AS u CROSS JOIN unnest(%s::bigint[]) AS t
            """,
            [PERPETUAL_START, assigned_at, player_ids, chosen],
        )
        cursor.execute(
            """
            INSERT INTO missions_missionprogress (mission_id, user_id, requirement_key, action,
                                                  current, target)
            SELECT m.id, m.user_id, r.key, r.value->>'action', 0, (r.value->>'target')::numeric
            FROM missions_activemission m
            JOIN missions_missiontemplate t ON t.id = m.template_id
            CROSS JOIN LATERAL jsonb_each(t.requirements) AS r
            """
        )
        cursor.execute("ANALYZE missions_activemission")
        cursor.execute("ANALYZE missions_missionprogress")
        cursor.execute("SELECT count(*) FROM missions_missionprogress")
        return int(cursor.fetchone()[0])


class EventMaker:
    """Reproducible events: uniform players (1,000 of 10,000 touch ~950), the forum mix."""

    def __init__(self, player_ids: list[int], seed: int = 7, tag: str = "e") -> None:
        self.players = player_ids
        self.rng = random.Random(seed)
        self.tag = tag
        self.n = 0
        self.actions = [a for a, _ in ACTIONS]
        self.weights = [w for _, w in ACTIONS]

    def data(self, action: str) -> dict[str, Any]:
        rng = self.rng
        if action == "post:created":
            return {
                "post_id": rng.randint(1, 10**9),
                "forum_id": rng.randint(1, 40),
                "content_length": rng.choice([30, 80, 150, 400, rng.randint(1, 1000)]),
                "has_media": rng.random() < 0.2,
            }
        if action == "reaction:added":
            return {
                "post_id": rng.randint(1, 10**9),
                "reaction": rng.choice(["like", "love", "fire", "lol", "wow", "sad", "up"]),
                "to_user_id": rng.randint(1, 5000),
            }
        if action == "tip:sent":
            return {"amount": rng.randint(1, 500), "to_user_id": rng.randint(1, 5000)}
        if action == "thread:created":
            return {"thread_id": rng.randint(1, 10**9), "forum_id": rng.randint(1, 40)}
        if action == "user:followed":
            return {"to_user_id": rng.randint(1, 5000)}
        return {"length": rng.randint(1, 200)}

    def event(self, when: datetime | None = None, user_id: int | None = None) -> dict[str, Any]:
        rng = self.rng
        action = rng.choices(self.actions, self.weights)[0]
        self.n += 1
        # Spread over the last 10 days so streak days move too.
        occurred = when or datetime.now(UTC) - timedelta(minutes=rng.randint(1, 14_000))
        return {
            "id": f"{self.tag}-{self.n}",
            "user_id": user_id if user_id is not None else rng.choice(self.players),
            "action": action,
            "occurred_at": occurred.isoformat(),
            "data": self.data(action),
        }

    def batch(self, size: int = 1000) -> list[dict[str, Any]]:
        return [self.event() for _ in range(size)]


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]
