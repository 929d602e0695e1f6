"""Lazy assignment by ingestion (missions/services/ingest.py `_assign_lazily`): a player the
rollover has not reached gets the missions of the period their event belongs to, dated at
the earliest event of that day in the batch, and the "already assigned" cache mark of one
player never stands for another. Times below are worked out by hand (grace: 60 minutes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import missions
from missions.errors import ValidationFailed
from missions.models import ActiveMission, MissionProgress
from missions.services.ingest import events_ingest
from missions.services.timezones import player_timezone_set
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


@pytest.mark.django_db
def test_a_players_events_of_one_day_assign_at_the_earliest_whatever_the_batch_order(
    daily: Any,
) -> None:
    user = UserFactory()
    events_ingest(events=[post(user.pk, at(0, 10)), post(user.pk, at(0, 9))], now=at(0, 11))
    assert missions_of(user.pk) == [(at(0), at(0, 9), 2)]


LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


def in_los_angeles() -> Any:
    """A player who moved from UTC (the first zone of every player) to Los Angeles long ago:
    their days run from 08:00 UTC (PST) in November."""
    user = UserFactory()
    player_timezone_set(user_id=user.pk, timezone="America/Los_Angeles", now=LONG_AGO)
    return user


@pytest.mark.django_db
def test_an_old_event_is_judged_by_the_players_current_day_not_their_first_zones(
    daily: Any,
) -> None:
    user = in_los_angeles()
    # Monday 20:00 in LA (Tuesday 04:00 UTC), arriving Tuesday 09:30 UTC: the LA Monday ended
    # at 08:00 UTC, its grace at 09:00, so the current LA day's mission opens (in UTC, the
    # first zone, Tuesday would still be running).
    events_ingest(events=[post(user.pk, at(1, 4))], now=at(1, 9, 30))
    assert missions_of(user.pk) == [(at(1, 8), at(1, 9, 30), 0)]


@pytest.mark.django_db
def test_an_old_event_joins_the_current_days_group_of_players(daily: Any) -> None:
    late, current = in_los_angeles(), in_los_angeles()
    # The late player's event is too old for its day, so they are assigned as of the current
    # LA day, together with the player whose event belongs to that day, at its time.
    events_ingest(
        events=[post(late.pk, at(1, 4)), post(current.pk, at(1, 9, 10))], now=at(1, 9, 30)
    )
    assert missions_of(late.pk) == [(at(1, 8), at(1, 9, 10), 0)]
    assert missions_of(current.pk) == [(at(1, 8), at(1, 9, 10), 1)]


@pytest.mark.django_db
def test_the_assigned_mark_expires_after_an_hour(
    daily: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.cache import cache

    from missions.services.assignment import _assigned_cache_key

    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        events_ingest(events=[post(user.pk, at(0, 9))], now=at(0, 9))
    # Set for 3,600 seconds: what is left of them, read right after (never more).
    assert 3000 < cache.ttl(_assigned_cache_key(user.pk)) <= 3600
