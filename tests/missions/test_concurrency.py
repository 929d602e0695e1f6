"""Parallel senders for one user against real Postgres: no lost or doubled increments, and a
mission completes (and signals) exactly once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from missions.models import ActiveMission, Event, MissionProgress
from missions.services.ingest import events_ingest
from missions.signals import mission_completed
from tests.factories import UserFactory

from .engine import make_template, req

THREADS = 6
BATCHES = 5
PER_BATCH = 8


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_batches_for_one_user_count_every_event_exactly_once() -> None:
    endless = make_template(period_type="perpetual", requirements={"posts": req(target=100000)})
    # Distinct ids sent: THREADS*BATCHES*PER_BATCH own + PER_BATCH shared = 248.
    goal = make_template(period_type="perpetual", requirements={"posts": req(target=200)})
    user = UserFactory()
    completions: list[int] = []
    guard = threading.Lock()

    def on_completed(sender: Any, mission: ActiveMission, **kwargs: Any) -> None:
        with guard:
            completions.append(mission.pk)

    def sender(thread: int) -> None:
        try:
            for batch in range(BATCHES):
                events = [
                    {"id": f"t{thread}-b{batch}-{i}", "user_id": user.pk, "action": "post:created"}
                    for i in range(PER_BATCH)
                ]
                # Every thread also re-sends the same shared ids: they must count once.
                events += [
                    {"id": f"shared-{i}", "user_id": user.pk, "action": "post:created"}
                    for i in range(PER_BATCH)
                ]
                result = events_ingest(events=events)
                assert not result.rejected
        finally:
            connection.close()

    mission_completed.connect(on_completed)
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(sender, range(THREADS)))
    finally:
        mission_completed.disconnect(on_completed)

    distinct = THREADS * BATCHES * PER_BATCH + PER_BATCH
    assert Event.objects.count() == distinct
    assert MissionProgress.objects.get(mission__template=endless).current == distinct
    mission = ActiveMission.objects.get(template=goal)
    assert mission.state == "completed"
    assert MissionProgress.objects.get(mission=mission).current == 200
    assert completions == [mission.pk]
