"""Group commit (missions/services/group_commit.py) against real Postgres: concurrent small
requests share one batch, and each still gets exactly its own answer after the commit."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, transaction

from missions.models import Event, MissionProgress
from missions.services import group_commit
from missions.services.group_commit import events_ingest_grouped
from missions.services.ingest import LOCK_NAMESPACE
from tests.factories import UserFactory

from .engine import make_template, req


def _wait_for(predicate: Any, seconds: float = 20) -> None:
    """Poll until predicate() holds; `seconds` is a hang guard, not a bound under test."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting after {seconds} s: a hang")
        time.sleep(0.01)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_queued_requests_share_one_batch_and_each_gets_its_own_answer(settings: Any) -> None:
    settings.MISSIONS_INGEST_GROUP_FLIGHTS = 1
    endless = make_template(period_type="perpetual", requirements={"posts": req(target=10**6)})
    first, second = UserFactory(), UserFactory()

    def post(events: list[dict[str, Any]]) -> Any:
        try:
            return events_ingest_grouped(events=events)
        finally:
            connection.close()

    def event(n: int, user: Any = None, **extra: Any) -> dict[str, Any]:
        user_id = (user or second).pk
        return {"id": f"g-{n}", "user_id": user_id, "action": "post:created", **extra}

    requests = [
        [event(1), event(2)],  # both new
        [event(2), event(3)],  # g-2 again: a duplicate across requests; g-3 new
        [event(4, data={"content_length": "long"}), event(5)],  # first one rejected
        [event(6, user=first)],
    ]
    with ThreadPoolExecutor(len(requests) + 1) as pool:
        # The first request holds the only flight: its user's ingestion lock is taken here.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, first.pk])
            blocked = pool.submit(post, requests[3])
            _wait_for(lambda: group_commit._QUEUE.flights == 1)
            queued = [pool.submit(post, r) for r in requests[:3]]
            _wait_for(lambda: len(group_commit._QUEUE.waiting) == 3)
            assert not blocked.done()
        results = [f.result(timeout=30) for f in queued] + [blocked.result(timeout=30)]

    assert [(r.accepted, r.duplicates, len(r.rejected)) for r in results] == [
        (2, 0, 0),
        (1, 1, 0),  # g-2 was accepted for the first request
        (1, 0, 1),
        (1, 0, 0),
    ]
    rejection = results[2].rejected[0]
    assert (rejection.index, rejection.id) == (0, "g-4")  # its place in its own request
    assert "data.content_length" in rejection.errors
    # The three queued requests were one batch: one arrival time for all their events.
    arrivals = set(
        Event.objects.filter(event_id__in=["g-1", "g-2", "g-3", "g-5"]).values_list(
            "received_at", flat=True
        )
    )
    assert len(arrivals) == 1
    assert Event.objects.get(event_id="g-6").received_at not in arrivals
    assert MissionProgress.objects.get(mission__template=endless, user=second).current == 4
    assert MissionProgress.objects.get(mission__template=endless, user=first).current == 1
    assert group_commit._QUEUE.flights == 0 and not group_commit._QUEUE.waiting
