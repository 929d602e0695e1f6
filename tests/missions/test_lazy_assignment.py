"""Lazy assignment by ingestion (missions/services/ingest.py `_assign_lazily`): a player the
rollover has not reached gets the missions of the period their event belongs to, dated at
the earliest event of that day in the batch, and the "already assigned" cache mark of one
player never stands for another. Times below are worked out by hand (grace: 60 minutes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

import missions
from missions.errors import ValidationFailed
from missions.models import ActiveMission, MissionProgress
from missions.services.ingest import events_ingest
from tests.factories import UserFactory

from .engine import at, event, make_template, req


def post(user_id: int, when: datetime) -> dict[str, Any]:
    return event(user_id, "post:created", {"content_length": 150}, when=when)


def missions_of(user_id: int) -> list[tuple[datetime, datetime, int]]:
    """(period start, assigned at, posts counted) of each of the player's missions."""
    return sorted(
        (m.period_start, m.assigned_at, int(MissionProgress.objects.get(mission=m).current))
        for m in ActiveMission.objects.filter(user_id=user_id)
    )


@pytest.fixture
def daily() -> Any:
    return make_template(key="lazy_daily", requirements={"posts": req(target=5)})


@pytest.mark.django_db
def test_a_first_event_late_inside_the_grace_opens_its_own_days_mission(daily: Any) -> None:
    user = UserFactory()
    events_ingest(events=[post(user.pk, at(0, 23, 50))], now=at(1, 0, 30))
    assert missions_of(user.pk) == [(at(0), at(0, 23, 50), 1)]


@pytest.mark.django_db
def test_a_first_event_in_the_last_hour_of_its_day_opens_that_days_mission(daily: Any) -> None:
    user = UserFactory()
    events_ingest(events=[post(user.pk, at(0, 23, 30))], now=at(0, 23, 40))
    assert missions_of(user.pk) == [(at(0), at(0, 23, 30), 1)]


@pytest.mark.django_db
def test_a_first_event_arriving_when_the_grace_ends_opens_the_current_days_mission(
    daily: Any,
) -> None:
    user = UserFactory()
    events_ingest(events=[post(user.pk, at(0, 23, 50))], now=at(1, 1))
    assert missions_of(user.pk) == [(at(1), at(1, 1), 0)]


@pytest.mark.django_db
def test_a_batchs_new_players_of_one_day_are_assigned_at_its_earliest_event(daily: Any) -> None:
    first, second = UserFactory(), UserFactory()
    events_ingest(events=[post(first.pk, at(0, 9)), post(second.pk, at(0, 10))], now=at(0, 11))
    assert missions_of(first.pk) == [(at(0), at(0, 9), 1)]
    assert missions_of(second.pk) == [(at(0), at(0, 9), 1)]


@pytest.mark.django_db
def test_one_players_assigned_mark_never_stands_for_another(
    daily: Any, django_capture_on_commit_callbacks: Any
) -> None:
    marked, second, third = UserFactory(), UserFactory(), UserFactory()
    with django_capture_on_commit_callbacks(execute=True):  # writes the cache mark
        events_ingest(events=[post(marked.pk, at(0, 9))], now=at(0, 9))
    with django_capture_on_commit_callbacks(execute=True):
        # The marked player first in the batch: the players after them are still assigned.
        events_ingest(
            events=[post(marked.pk, at(0, 10)), post(second.pk, at(0, 10))], now=at(0, 10)
        )
    with django_capture_on_commit_callbacks(execute=True):
        events_ingest(events=[post(third.pk, at(0, 11))], now=at(0, 11))
    assert missions_of(marked.pk) == [(at(0), at(0, 9), 2)]
    assert missions_of(second.pk) == [(at(0), at(0, 10), 1)]
    assert missions_of(third.pk) == [(at(0), at(0, 11), 1)]


@pytest.mark.django_db
def test_track_refuses_something_that_is_not_a_user_with_the_reason() -> None:
    with pytest.raises(ValidationFailed) as refused:
        missions.track(object(), "post:created", {"content_length": 150})
    assert str(refused.value) == "event 'post:created' was rejected"
    assert list(refused.value.errors) == ["user_id"]


@pytest.mark.django_db
def test_every_repeated_id_of_a_batch_is_counted_as_a_duplicate(daily: Any) -> None:
    user = UserFactory()
    one, two = post(user.pk, at(0, 9)), post(user.pk, at(0, 9, 30))
    events_ingest(events=[one, two], now=at(0, 9, 30))
    # Two ids already in the log, one of them twice more within the batch, one new.
    again = events_ingest(events=[one, two, two, two, post(user.pk, at(0, 10))], now=at(0, 10))
    assert (again.accepted, again.duplicates) == (1, 4)
