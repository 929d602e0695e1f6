"""The scheduled lifecycle with an injected clock: rollover across day, ISO week, month and
year boundaries, the period close with exact counts, timebound deadlines, special windows,
and repeats or concurrent runs that change nothing."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from missions import tasks
from missions.models import ActiveMission, LifecycleRun, MissionTemplate
from missions.services.lifecycle import missions_close_ended, missions_rollover
from rewards import tasks as reward_tasks
from rewards.selectors import ledger_differences
from tests.factories import UserFactory
from tests.missions.engine import make_template, req, send

GRACE = timedelta(minutes=60)  # MISSIONS_LATE_EVENT_GRACE_MINUTES's default


@pytest.fixture(autouse=True)
def _one_of_each(settings: Any) -> None:
    # Every template of a period type goes to every player: counts are exact.
    settings.MISSIONS_PER_PERIOD = {"daily": 2, "weekly": 2, "monthly": 1}
    settings.MISSIONS_LATE_EVENT_GRACE_MINUTES = 60


# The templates are assigned 3 h before a boundary: they opt out of the assignment policy
# that keeps a weekly or monthly mission from a player with under 10 % of its period left.
ANYTIME = {"min_remaining_percent": 0}


def templates() -> dict[str, MissionTemplate]:
    return {
        "daily": make_template(key="d_posts", requirements={"posts": req(target=2)}),
        "timebound": make_template(
            key="d_rush",
            type="timebound",
            requirements={"posts": req("thread:created", target=2)},
            metadata={"time_limit_minutes": 24 * 60},
        ),
        "weekly": make_template(
            key="w_posts",
            period_type="weekly",
            requirements={"posts": req(target=5)},
            metadata=ANYTIME,
        ),
        "competitive": make_template(
            key="w_top",
            type="competitive",
            period_type="weekly",
            requirements={"posts": req(target=1)},
            metadata={"reward_tiers": [{"rank_to": 1, "rewards": {"xp": 500}}], **ANYTIME},
        ),
        "monthly": make_template(
            key="m_posts",
            period_type="monthly",
            requirements={"posts": req(target=50)},
            metadata=ANYTIME,
        ),
    }


def iso(instant: datetime) -> str:
    return instant.isoformat()


def states(**filters: Any) -> Counter[tuple[str, str]]:
    return Counter(ActiveMission.objects.filter(**filters).values_list("template__key", "state"))


BOUNDARIES = {
    # name: (boundary, the period types that roll over there)
    "day": (datetime(2026, 11, 26, tzinfo=UTC), {"daily"}),
    "iso_week": (datetime(2026, 11, 30, tzinfo=UTC), {"daily", "weekly"}),
    "month": (datetime(2026, 12, 1, tzinfo=UTC), {"daily", "monthly"}),
    "year": (datetime(2027, 1, 1, tzinfo=UTC), {"daily", "monthly"}),
}
KEYS = {
    "daily": ["d_posts", "d_rush"],
    "weekly": ["w_posts", "w_top"],
    "monthly": ["m_posts"],
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(BOUNDARIES))
def test_rollover_closes_the_ended_periods_with_exact_counts(name: str) -> None:
    boundary, rolling = BOUNDARIES[name]
    assert (boundary.weekday() == 0) == ("weekly" in rolling)  # the calendar agrees
    assert (boundary.day == 1) == ("monthly" in rolling)
    templates()
    players = [UserFactory() for _ in range(4)]
    before = boundary - timedelta(hours=3)
    tasks.rollover("daily", now=iso(before))
    assert ActiveMission.objects.count() == 4 * 5
    # Player 0 completes the daily count mission and scores in the competition; player 1
    # completes the timebound one in time.
    for n in range(2):
        send(players[0].pk, "post:created", when=before + timedelta(minutes=n + 1))
        send(players[1].pk, "thread:created", when=before + timedelta(minutes=n + 1))

    result = tasks.rollover("daily", now=iso(boundary))
    # Nothing of the ended period is closed yet: a late event may still arrive.
    assert result["abandoned"] == result["failed"] == 0
    new_daily = ActiveMission.objects.filter(period_start=boundary, period_type="daily")
    assert new_daily.count() == 4 * 2
    for period_type in ("weekly", "monthly"):
        assert ActiveMission.objects.filter(
            period_start=boundary, period_type=period_type
        ).count() == (4 * len(KEYS[period_type]) if period_type in rolling else 0)

    assert tasks.close_ended(now=iso(boundary + GRACE - timedelta(seconds=1))) == {
        "abandoned": 0,
        "failed": 0,
    }
    closed = tasks.close_ended(now=iso(boundary + GRACE))
    # Abandoned: every unfinished count mission of the ended periods (player 0's daily is
    # done); failed: the timebound missions not completed (player 1's is).
    abandoned = 3 + sum(4 for t in ("weekly", "monthly") if t in rolling)
    assert closed == {"abandoned": abandoned, "failed": 3}
    finalized = reward_tasks.finalize_competitive(now=iso(boundary + GRACE))
    if "weekly" in rolling:
        # Player 0 qualified and is paid the one tier; the three others expire.
        assert finalized == {"periods": 1, "ranked": 1, "paid": 1, "expired": 3}
    else:
        assert finalized["periods"] == 0
    ended = states(period_end__lte=boundary)
    assert ended[("d_posts", "expired")] == 3 and ended[("d_posts", "completed")] == 1
    assert ended[("d_rush", "failed")] == 3 and ended[("d_rush", "completed")] == 1
    assert not ActiveMission.objects.filter(state="active", period_end__lte=boundary).exists(), (
        "no active mission past its period"
    )
    # The new periods are untouched.
    assert set(states(period_start=boundary)) <= {(k, "active") for t in KEYS for k in KEYS[t]}
    assert ledger_differences() == []


@pytest.mark.django_db
def test_a_second_run_changes_nothing() -> None:
    templates()
    for _ in range(3):
        UserFactory()
    boundary = datetime(2026, 12, 1, tzinfo=UTC)
    tasks.rollover("daily", now=iso(boundary - timedelta(hours=1)))
    first = tasks.rollover("daily", now=iso(boundary))
    snapshot = sorted(ActiveMission.objects.values_list("pk", "state", "period_start"))
    assert first["assigned"] > 0
    assert tasks.rollover("daily", now=iso(boundary + timedelta(minutes=5))) == {
        "skipped": "already done"
    }
    # The monthly rollover of the same instant finds everything assigned.
    assert tasks.rollover("monthly", now=iso(boundary))["assigned"] == 0
    tasks.close_ended(now=iso(boundary + GRACE))
    after_close = sorted(ActiveMission.objects.values_list("pk", "state", "period_start"))
    assert tasks.close_ended(now=iso(boundary + GRACE * 2)) == {"abandoned": 0, "failed": 0}
    assert sorted(ActiveMission.objects.values_list("pk", "state", "period_start")) == (after_close)
    assert len(after_close) == len(snapshot)
    run = LifecycleRun.objects.get(key="rollover:daily:2026-12-01")
    assert run.finished_at is not None and run.result["assigned"] == first["assigned"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_rollovers_assign_once() -> None:
    templates()
    for _ in range(20):
        UserFactory()
    boundary = datetime(2026, 11, 30, tzinfo=UTC)
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run(period_type: str) -> None:
        try:
            start.wait()
            results.append(missions_rollover(period_type=period_type, now=boundary))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(p,)) for p in ("daily", "daily", "weekly", "daily")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    # One daily run did the work; the other two skipped. Every mission exists exactly once.
    done = [r for r in results if "assigned" in r]
    skipped = [r for r in results if "skipped" in r]
    assert len(skipped) >= 2 and len(done) + len(skipped) == 4
    # 2 daily + 2 weekly + November's monthly (a first assignment gets every period).
    assert ActiveMission.objects.count() == 20 * 5
    assert sum(r["assigned"] for r in done) == 20 * 5
    per_key = Counter(ActiveMission.objects.values_list("user_id", "template_id", "period_start"))
    assert set(per_key.values()) == {1}
    # A concurrent close: the conditional UPDATE counts each mission once.
    later = boundary + timedelta(days=1) + GRACE
    counts: list[int] = []

    def close() -> None:
        try:
            start.wait()
            report = missions_close_ended(now=later)
            counts.append(report.abandoned + report.failed)
        finally:
            connection.close()

    threads = [threading.Thread(target=close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The daily ones and November's monthly one; the week has not ended.
    assert sum(counts) == 20 * 3


@pytest.mark.django_db
def test_a_timebound_mission_fails_at_its_deadline_without_any_event() -> None:
    make_template(
        key="rush",
        type="timebound",
        requirements={"posts": req(target=3)},
        metadata={"time_limit_minutes": 30},
    )
    player = UserFactory()
    start = datetime(2026, 11, 25, 8, tzinfo=UTC)
    tasks.rollover("daily", now=iso(start))
    send(player.pk, "post:created", when=start + timedelta(minutes=1))
    deadline = start + timedelta(minutes=30)
    assert tasks.fail_timebound(now=iso(deadline + GRACE - timedelta(seconds=1))) == 0
    assert tasks.fail_timebound(now=iso(deadline + GRACE)) == 1
    assert tasks.fail_timebound(now=iso(deadline + GRACE)) == 0
    assert ActiveMission.objects.get().state == "failed"
    # Replay agrees: the scheduler's deadline is part of what the log implies.
    from missions.services.replay import replay_events

    report = replay_events()
    assert report.differences == [] and report.problems == []


@pytest.mark.django_db
def test_an_event_that_arrives_after_the_deadline_grace_never_counts() -> None:
    make_template(
        key="rush",
        type="timebound",
        requirements={"posts": req(target=1)},
        metadata={"time_limit_minutes": 30},
    )
    player = UserFactory()
    start = datetime(2026, 11, 25, 8, tzinfo=UTC)
    tasks.rollover("daily", now=iso(start))
    deadline = start + timedelta(minutes=30)
    # Happened in time, arrived after the deadline + grace: too late, live and in replay.
    send(player.pk, "post:created", when=deadline - timedelta(minutes=1), received=deadline + GRACE)
    assert ActiveMission.objects.get().state == "active"
    tasks.fail_timebound(now=iso(deadline + GRACE))
    assert ActiveMission.objects.get().state == "failed"
    from missions.services.replay import replay_events

    assert replay_events().differences == []


@pytest.mark.django_db
def test_a_special_window_opens_at_starts_at_and_closes_at_ends_at() -> None:
    starts = datetime(2026, 12, 24, 18, tzinfo=UTC)
    ends = starts + timedelta(days=2)
    make_template(
        key="xmas",
        period_type="special",
        category="special_event",
        requirements={"posts": req(target=1)},
        starts_at=starts.isoformat(),
        ends_at=ends.isoformat(),
    )
    early, late = UserFactory(), UserFactory()
    UserFactory(is_active=False)
    assert tasks.open_special_windows(now=iso(starts - timedelta(seconds=1))) == {}
    opened = tasks.open_special_windows(now=iso(starts))
    assert opened == {"xmas": {"template": "xmas", "assigned": 2}}
    assert tasks.open_special_windows(now=iso(starts + timedelta(minutes=1))) == {
        "xmas": {"skipped": "already done"}
    }
    send(early.pk, "post:created", when=starts + timedelta(hours=1))
    assert tasks.close_ended(now=iso(ends + GRACE)) == {"abandoned": 1, "failed": 0}
    assert dict(ActiveMission.objects.values_list("user_id", "state")) == {
        early.pk: "completed",
        late.pk: "expired",
    }


@pytest.mark.django_db
def test_a_rollover_missed_at_midnight_runs_at_the_next_sweep() -> None:
    templates()
    UserFactory()
    late = datetime(2026, 11, 30, 0, 7, tzinfo=UTC)  # Monday: day and week rolled over
    result = tasks.rollover_due(now=iso(late))
    assert result["daily"]["assigned"] == 5  # 2 daily, 2 weekly, the monthly: all current
    assert result["weekly"]["assigned"] == 0 and result["monthly"]["assigned"] == 0
    assert tasks.rollover_due(now=iso(late + timedelta(minutes=1))) == {
        "daily": {"skipped": "already done"},
        "weekly": {"skipped": "already done"},
        "monthly": {"skipped": "already done"},
    }
    # A run that died (no finished_at) is done again by the next sweep.
    LifecycleRun.objects.filter(key="rollover:daily:2026-11-30").update(finished_at=None)
    assert tasks.rollover_due(now=iso(late + timedelta(minutes=2)))["daily"]["assigned"] == 0
    assert LifecycleRun.objects.get(key="rollover:daily:2026-11-30").finished_at is not None
