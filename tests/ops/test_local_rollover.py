"""The rollover at each player's local midnight, through the Celery task with an injected
clock: a player in Tokyo and one in Los Angeles each get their daily missions at their own
midnight; runs that come twice, late or at once change nothing more; lazy assignment still
covers a scheduler that never came."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from missions import tasks
from missions.models import ActiveMission, MissionTemplate, PlayerProfile
from missions.services import missions_assign_for_user
from missions.services.lifecycle import missions_rollover_local
from missions.services.timezones import player_timezone_set
from tests.factories import UserFactory
from tests.missions.engine import make_template, req

QUARTER = timedelta(minutes=15)
DAY = datetime(2026, 12, 1, tzinfo=UTC)  # Tuesday; Tokyo's midnight is 15:00 UTC, LA's 08:00


@pytest.fixture(autouse=True)
def _every_template(settings: Any) -> None:
    settings.MISSIONS_PER_PERIOD = {"daily": 1, "weekly": 1, "monthly": 1}


def players() -> dict[str, Any]:
    make_template(key="daily_post", requirements={"posts": req(target=2)})
    out = {}
    for name, zone in (("tokyo", "Asia/Tokyo"), ("la", "America/Los_Angeles"), ("utc", "UTC")):
        user = UserFactory(username=name)
        # Chosen long ago: the zone has governed their days for months.
        player_timezone_set(user_id=user.pk, timezone=zone, now=DAY - timedelta(days=90))
        out[name] = user
    return out


def daily_starts(user: Any) -> list[datetime]:
    return sorted(
        ActiveMission.objects.filter(user=user, period_type="daily").values_list(
            "period_start", flat=True
        )
    )


def run(at: datetime) -> dict[str, Any]:
    return tasks.rollover_local(now=at.isoformat())


@pytest.mark.django_db
def test_tokyo_and_los_angeles_each_get_their_daily_missions_at_their_own_midnight() -> None:
    who = players()
    first = run(DAY)  # everyone is due the first time (never rolled over)
    assert first["players"] == 3
    assert daily_starts(who["tokyo"]) == [datetime(2026, 11, 30, 15, tzinfo=UTC)]
    assert daily_starts(who["la"]) == [datetime(2026, 11, 30, 8, tzinfo=UTC)]
    assert daily_starts(who["utc"]) == [DAY]
    seen: dict[str, datetime] = {}
    at = DAY + QUARTER
    while at <= DAY + timedelta(days=1):
        result = run(at)
        for name, user in who.items():
            if name not in seen and len(daily_starts(user)) == 2:
                seen[name] = at
                assert daily_starts(user)[-1] == at  # the new day starts at that run
        if result["players"]:
            # Each run took exactly one offset's batch.
            assert len(result["offsets"]) == 1, result
        at += QUARTER
    assert seen == {
        "la": datetime(2026, 12, 1, 8, tzinfo=UTC),  # 00:00 PST
        "tokyo": datetime(2026, 12, 1, 15, tzinfo=UTC),  # 00:00 JST
        "utc": datetime(2026, 12, 2, tzinfo=UTC),
    }
    rolled = dict(PlayerProfile.objects.values_list("user__username", "rollover_at"))
    assert rolled["tokyo"] == datetime(2026, 12, 2, 15, tzinfo=UTC)
    assert rolled["la"] == datetime(2026, 12, 2, 8, tzinfo=UTC)


@pytest.mark.django_db
def test_a_second_run_changes_nothing_and_a_late_one_takes_everyone_due_since() -> None:
    who = players()
    run(DAY)
    assert run(DAY)["players"] == 0  # the same instant again: nobody is due
    # Beat was down from 07:00 to 16:00 UTC: one late run takes LA (due 08:00) and Tokyo
    # (due 15:00) together, each into their own current day.
    late = run(datetime(2026, 12, 1, 16, 5, tzinfo=UTC))
    assert late["players"] == 2 and late["offsets"] == {"+09:00": 1, "-08:00": 1}
    assert daily_starts(who["la"])[-1] == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert daily_starts(who["tokyo"])[-1] == datetime(2026, 12, 1, 15, tzinfo=UTC)
    assert len(daily_starts(who["utc"])) == 1
    per_key = Counter(ActiveMission.objects.values_list("user_id", "template_id", "period_start"))
    assert set(per_key.values()) == {1}


@pytest.mark.django_db
def test_lazy_assignment_covers_a_scheduler_that_never_ran() -> None:
    who = players()
    at = datetime(2026, 12, 1, 15, 1, tzinfo=UTC)  # 00:01 in Tokyo, no rollover ever
    missions_assign_for_user(user_id=who["tokyo"].pk, now=at)
    assert daily_starts(who["tokyo"]) == [datetime(2026, 12, 1, 15, tzinfo=UTC)]


@pytest.mark.django_db
def test_a_player_who_changes_zone_rolls_over_at_the_new_zones_midnight() -> None:
    who = players()
    run(DAY)
    run(datetime(2026, 12, 1, 8, tzinfo=UTC))  # LA's 1 December begins
    # At 10:00 UTC the LA player moves to Tokyo: their day runs on until Tokyo's first
    # midnight after its old end (2 Dec 08:00 UTC), i.e. 2 Dec 15:00 UTC.
    change = datetime(2026, 12, 1, 10, tzinfo=UTC)
    player_timezone_set(user_id=who["la"].pk, timezone="Asia/Tokyo", now=change)
    at = change + QUARTER
    while at < datetime(2026, 12, 2, 15, tzinfo=UTC):
        run(at)
        at += QUARTER
    # No new day in those 31 hours: one day for the whole transitional stretch.
    assert daily_starts(who["la"])[-1] == datetime(2026, 12, 1, 8, tzinfo=UTC)
    run(datetime(2026, 12, 2, 15, tzinfo=UTC))
    assert daily_starts(who["la"])[-1] == datetime(2026, 12, 2, 15, tzinfo=UTC)
    starts = daily_starts(who["la"])
    assert all(b - a >= timedelta(hours=24) for a, b in zip(starts, starts[1:], strict=False))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_runs_assign_once() -> None:
    who = players()
    for _ in range(10):
        UserFactory()
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def go() -> None:
        try:
            start.wait()
            results.append(missions_rollover_local(now=DAY))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=go) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    per_key = Counter(ActiveMission.objects.values_list("user_id", "template_id", "period_start"))
    assert set(per_key.values()) == {1}
    assert len(per_key) == 13  # one daily mission each
    assert sum(r.get("assigned", 0) for r in results) == 13
    assert len(daily_starts(who["tokyo"])) == 1


@pytest.mark.django_db
def test_a_first_event_after_local_midnight_opens_and_counts_for_the_players_own_day(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.missions.engine import send

    who = players()
    streak = make_template(
        key="run_of_days",
        type="streak",
        period_type="perpetual",
        requirements={"days": req("post:created", 5)},
    )
    tokyo = who["tokyo"].pk
    # 23:50 and 00:10 in Tokyo: the first event assigns 1 December's missions (Tokyo), the
    # second, 20 minutes later but on Tokyo's 2 December, assigns that day's: the
    # lazy-assignment mark is the player's day, not a UTC date.
    with django_capture_on_commit_callbacks(execute=True):
        send(tokyo, "post:created", when=datetime(2026, 12, 1, 14, 50, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        send(tokyo, "post:created", when=datetime(2026, 12, 1, 15, 10, tzinfo=UTC))
    assert daily_starts(who["tokyo"]) == [
        datetime(2026, 11, 30, 15, tzinfo=UTC),
        datetime(2026, 12, 1, 15, tzinfo=UTC),
    ]
    counts = dict(
        ActiveMission.objects.filter(user_id=tokyo, template__key="daily_post").values_list(
            "period_start", "progress__current"
        )
    )
    assert list(counts.values()) == [1, 1]  # one post in each Tokyo day
    # A streak requirement counts Tokyo days too: the two events, 20 minutes apart on one
    # UTC date, are a run of two days.
    run = ActiveMission.objects.get(user_id=tokyo, template=streak)
    assert run.progress.get().current == 2


ZONES = [
    "UTC",
    "Asia/Tokyo",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Asia/Kathmandu",
]


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.sampled_from(ZONES),
    steps=st.lists(
        st.tuples(st.integers(1, 80), st.sampled_from([None, None, *ZONES]), st.booleans()),
        min_size=4,
        max_size=14,
    ),
)
def test_whatever_the_zone_changes_a_players_days_tile_time_and_never_come_twice_in_a_day(
    first: str, steps: list[tuple[int, str | None, bool]]
) -> None:
    """Random zone changes at random quarter hours, the rollover or a visit after each (never
    more than 20 hours apart, so every day is reached): the player's stored daily periods
    follow each other end to start, and two starts are never less than 23 hours apart."""
    if not MissionTemplate.objects.filter(key="daily_post").exists():
        make_template(key="daily_post", requirements={"posts": req(target=2)})
    user = UserFactory()
    at = datetime(2026, 10, 30, 0, 0, tzinfo=UTC)
    player_timezone_set(user_id=user.pk, timezone=first, now=at - timedelta(days=60))
    for quarters, zone, visit in steps:
        at += QUARTER * quarters
        if zone is not None:
            player_timezone_set(user_id=user.pk, timezone=zone, now=at)
        if visit:
            missions_assign_for_user(user_id=user.pk, now=at)
        else:
            missions_rollover_local(now=at)
    periods = sorted(
        ActiveMission.objects.filter(user=user, period_type="daily").values_list(
            "period_start", "period_end"
        )
    )
    # The last step's run (or visit) left the player in a current day, reached by the days
    # before it without a hole.
    assert periods[-1][0] <= at < periods[-1][1]
    for (start, end), (next_start, _) in zip(periods, periods[1:], strict=False):
        assert end == next_start  # no gap, no overlap
        assert next_start - start >= timedelta(hours=23)
