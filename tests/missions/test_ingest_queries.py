"""The hot path: a batch costs a constant number of queries, whatever its size."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from missions.models import ActiveMission
from missions.services.ingest import events_ingest
from tests.factories import UserFactory

from .engine import at, make_template, req

# Advisory locks and user check (one statement), log insert (the dedupe keys and the events
# in one statement), 4 loads (the touched missions with all their progress rows in one raw
# join, their templates, the unique values / streak days the batch can meet, and — because
# the batch touches a streak requirement, which counts the player's local days — the
# players' timezones), 3 writes (progress as deltas, missions, new values), and the savepoint
# pair of the batch's transaction (nested in the test's): 11. Issue 11 merged two loads into
# one join that reads only the missions the batch's (player, action) pairs touch, and the
# user check into the lock statement.
QUERIES = 11
# First contact adds lazy assignment for the whole batch: the players' timezones (which day
# an event is in is theirs to say), templates, player profiles (insert, read with their
# levels and timezones), the running experiments (analytics' exclusion source), existing
# missions, and one insert of missions and progress in a savepoint: 9.
FIRST_CONTACT = QUERIES + 9
# A batch that completes missions reads them once as model objects (for the receivers,
# metrics and webhooks) and the webhook endpoints once (none are configured here, so nothing
# more is written), however many it completes.
COMPLETING = 2


def templates() -> None:
    make_template(requirements={"posts": req(target=50, where={"content_length": {"gte": 100}})})
    make_template(type="unique", requirements={"forums": req(target=30, field="forum_id")})
    make_template(type="threshold", requirements={"tip": req("tip:sent", 500, field="amount")})
    make_template(
        type="streak",
        period_type="weekly",
        requirements={"days": req("shoutbox:message", target=5)},
    )
    make_template(
        type="combo",
        period_type="perpetual",
        metadata={"ordered": True},
        requirements={"a": req("thread:created", 1), "b": req(target=40)},
    )
    make_template(
        type="competitive",
        period_type="weekly",
        requirements={"p": req(target=1)},
        metadata={"reward_tiers": [{"rank_to": 3, "rewards": {"xp": 5}}]},
    )


def batch(user_ids: list[int], size: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    events = []
    for i in range(size):
        action, data = rng.choice(
            [
                (
                    "post:created",
                    {"content_length": rng.choice([40, 150]), "forum_id": rng.randint(1, 50)},
                ),
                ("tip:sent", {"amount": rng.randint(1, 600)}),
                ("shoutbox:message", {}),
                ("thread:created", {}),
            ]
        )
        events.append(
            {
                "id": f"s{seed}-{i}",
                "user_id": rng.choice(user_ids),
                "action": action,
                "occurred_at": at(0, 10, rng.randint(0, 59)).isoformat(),
                "data": data,
            }
        )
    return events


def queries_for(events: list[dict[str, Any]], on_commit: Any) -> int:
    """The batch's queries, less the one webhook-endpoint read of a batch that completes."""
    completed = ActiveMission.objects.filter(completed_at__isnull=False).count
    before = completed()
    # Commit hooks run as after a real commit (they mark the users as assigned).
    with on_commit(execute=True), CaptureQueriesContext(connection) as captured:
        result = events_ingest(events=events, now=at(0, 11))
    assert result.accepted == len(events)
    return len(captured) - (COMPLETING if completed() > before else 0)


@pytest.mark.django_db
def test_a_batch_of_1000_events_costs_a_constant_number_of_queries(
    django_capture_on_commit_callbacks: Any,
) -> None:
    templates()
    users = [UserFactory().pk for _ in range(100)]
    # First contact: lazy assignment for all 100 users is part of the batch.
    first = queries_for(batch(users, 1000, seed=1), django_capture_on_commit_callbacks)
    small = queries_for(batch(users, 10, seed=2), django_capture_on_commit_callbacks)
    large = queries_for(batch(users, 1000, seed=3), django_capture_on_commit_callbacks)
    assert first == FIRST_CONTACT
    assert large == small == QUERIES
