"""The event log over years (docs/events.md "The log over years"), on real Postgres with
time frozen by passing `now`: monthly partitions are created ahead and old months retired
by the beat task, idempotently; an event id is a duplicate whichever month holds its first
copy; and replay from the snapshots a retired month leaves equals the stored state.

DDL is transactional in Postgres, so each test's partitions vanish with its transaction."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from missions import event_partitions as parts
from missions import tasks
from missions.event_validation import CleanEvent
from missions.models import (
    ActiveMission,
    Event,
    EventKey,
    MissionProgress,
    MissionSnapshot,
    RetiredPartition,
)
from missions.services import ingest, missions_assign
from missions.services.backtest import template_backtest
from missions.services.event_log import event_log_maintain
from missions.services.ingest import events_ingest
from missions.services.lifecycle import JOB_LOCK_NAMESPACE, _lock_id
from missions.services.replay import replay_users
from missions.services.timezones import player_timezone_set
from missions.validation import validate_template
from tests.factories import UserFactory

from .engine import event, make_template, req, send
from .test_replay import ACTIONS, engine_templates

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").startswith("sqlite"),
        reason="partitions are Postgres-only; SQLite keeps one plain table",
    ),
]

JAN = datetime(2031, 1, 1, tzinfo=UTC)


def month(n: int) -> datetime:
    """The first instant of the n-th month after January 2031."""
    return parts.add_months(JAN, n)


def attached() -> list[str]:
    with connection.cursor() as cursor:
        return [p.name for p in parts.attached(cursor)]


def table_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return bool(cursor.fetchone()[0])


def partition_of(event_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM missions_event WHERE event_id = %s", [event_id]
        )
        return str(cursor.fetchone()[0])


@pytest.fixture
def retention(settings: Any) -> None:
    settings.MISSIONS_EVENT_RETENTION_MONTHS = 2
    settings.MISSIONS_EVENT_PARTITIONS_AHEAD = 2
    settings.MISSIONS_EVENT_KEEP_DETACHED = False


def test_migration_left_a_partitioned_log_with_this_month_and_a_default() -> None:
    with connection.cursor() as cursor:
        assert parts.is_partitioned(cursor)
    this_month = parts.Partition.for_month(datetime.now(UTC)).name
    assert this_month in attached()
    assert table_exists(parts.DEFAULT)


def test_partitions_roll_ahead_and_months_past_the_retention_retire(retention: None) -> None:
    first = event_log_maintain(now=month(0) + timedelta(days=14))
    # January 2031 and two months ahead; every month that ended before November 2030 retired
    # (those the migration made for the real clock).
    assert {"missions_event_y2031m01", "missions_event_y2031m02", "missions_event_y2031m03"} <= set(
        first.created
    )
    assert [name for name in attached() if name < "missions_event_y2030m11"] == []

    player = UserFactory()
    for n, day in enumerate([month(0) + timedelta(days=19), month(1) + timedelta(days=9)]):
        send(player.pk, "post:created", when=day, event_id=f"e{n}")
    assert partition_of("e0") == "missions_event_y2031m01"
    assert partition_of("e1") == "missions_event_y2031m02"

    # April 2nd: April..June are made ahead; the cutoff is February 1st, so January leaves.
    april = month(3) + timedelta(days=1)
    second = event_log_maintain(now=april)
    assert second.created == [
        "missions_event_y2031m04",
        "missions_event_y2031m05",
        "missions_event_y2031m06",
    ]
    assert second.retired == ["missions_event_y2031m01"]
    assert second.events_retired == 1 and second.keys_pruned == 1
    assert "missions_event_y2031m01" not in attached()
    assert not table_exists("missions_event_y2031m01")  # dropped, not only detached
    assert list(Event.objects.values_list("event_id", flat=True)) == ["e1"]
    assert not EventKey.objects.filter(event_id="e0").exists()
    retired = RetiredPartition.objects.get(name="missions_event_y2031m01")
    assert (retired.range_start, retired.range_end, retired.events) == (month(0), month(1), 1)

    # The same run again (a late or repeated beat) changes nothing.
    again = event_log_maintain(now=april)
    assert (again.created, again.retired, again.keys_pruned) == ([], [], 0)
    assert RetiredPartition.objects.count() == len(first.retired) + 1


def test_a_kept_month_is_detached_but_not_dropped(retention: None, settings: Any) -> None:
    settings.MISSIONS_EVENT_KEEP_DETACHED = True
    event_log_maintain(now=month(0))
    report = event_log_maintain(now=month(3))
    assert "missions_event_y2031m01" in report.retired
    assert "missions_event_y2031m01" not in attached()
    assert table_exists("missions_event_y2031m01")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE missions_event_y2031m01")


def test_a_run_finds_another_runs_lock_and_does_nothing(retention: None) -> None:
    other = connections.create_connection("default")  # another worker's session
    key = [JOB_LOCK_NAMESPACE, _lock_id("event_log_maintain")]
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", key)
        report = event_log_maintain(now=month(0))
        assert report.skipped == "another run holds the lock"
        assert report.created == [] and "missions_event_y2031m01" not in attached()
    finally:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
        other.close()
    assert "missions_event_y2031m01" in event_log_maintain(now=month(0)).created


def test_rows_waiting_in_the_default_partition_move_into_their_month(retention: None) -> None:
    player = UserFactory()
    far = datetime(2035, 6, 10, tzinfo=UTC)  # no partition for June 2035 yet
    send(player.pk, "post:created", when=far, event_id="lost-in-default")
    assert partition_of("lost-in-default") == parts.DEFAULT
    report = event_log_maintain(now=far)
    assert "missions_event_y2035m06" in report.created
    assert partition_of("lost-in-default") == "missions_event_y2035m06"
    assert Event.objects.count() == 1


def test_the_beat_task_runs_the_maintenance(retention: None) -> None:
    result = tasks.event_log_maintain(now=month(0).isoformat())
    assert "missions_event_y2031m01" in result["created"]


def test_an_id_sent_in_two_months_counts_once(retention: None) -> None:
    event_log_maintain(now=month(0))
    template = make_template(period_type="perpetual", requirements={"p": req(target=5)})
    player = UserFactory()
    january, february = month(0) + timedelta(days=20), month(1) + timedelta(days=3)
    assert send(player.pk, "post:created", when=january, event_id="post-7").accepted == 1
    again = send(player.pk, "post:created", when=february, event_id="post-7")
    assert (again.accepted, again.duplicates) == (0, 1)
    assert Event.objects.filter(event_id="post-7").count() == 1
    assert partition_of("post-7") == "missions_event_y2031m01"
    progress = MissionProgress.objects.get(mission__template=template, mission__user=player)
    assert progress.current == 1

    # The dedupe window is the retention: once January left the log, the id is new again.
    event_log_maintain(now=month(3))
    late = send(player.pk, "post:created", when=month(3), event_id="post-7")
    assert late.accepted == 1


def test_replay_starts_from_the_snapshot_a_retired_month_left(retention: None) -> None:
    event_log_maintain(now=month(0))
    make_template(period_type="perpetual", requirements={"p": req(target=5)})
    player = UserFactory()
    for n, when in enumerate(
        [month(0) + timedelta(days=2), month(0) + timedelta(days=9), month(2) + timedelta(days=1)]
    ):
        send(player.pk, "post:created", when=when, event_id=f"p{n}")
    event_log_maintain(now=month(3))  # January leaves: its two events live on in a snapshot

    mission = ActiveMission.objects.get(user=player)
    snapshot = MissionSnapshot.objects.get(mission=mission)
    assert snapshot.as_of == month(1)
    assert snapshot.progress["p"]["current"] == "2"
    report = replay_users(user_ids=[player.pk], now=month(3))
    assert report.differences == []
    assert (report.horizon, report.from_snapshot, report.events) == (month(1), 1, 1)

    # Replay still catches a stored state that the log does not explain.
    MissionProgress.objects.filter(mission=mission).update(current=Decimal(4))
    report = replay_users(user_ids=[player.pk], now=month(3))
    assert [(d.what, d.stored, d.replayed) for d in report.differences] == [
        ("p.current", Decimal(4), Decimal(3))
    ]


def test_missions_closed_before_the_horizon_are_outside_retention(retention: None) -> None:
    event_log_maintain(now=month(0))
    make_template(requirements={"p": req(target=1)})  # daily
    player = UserFactory()
    send(player.pk, "post:created", when=month(0) + timedelta(days=3, hours=8))
    event_log_maintain(now=month(3))
    report = replay_users(user_ids=[player.pk], now=month(3))
    assert report.outside_retention == 1 and report.missions == 0
    assert not MissionSnapshot.objects.exists()  # pruned: nothing retained can reach it


EVENT = st.tuples(
    st.integers(0, 15),  # id from a small pool: duplicates are common
    ACTIONS,
    st.integers(0, 100),  # day since January 1st, 2031
    st.sampled_from([0, 59, 61, 600, 1439]),  # minute of that day
    st.sampled_from([0, 30, 90]),  # arrival delay (minutes)
)


@settings(
    max_examples=int(os.environ.get("SNAPSHOT_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    stream=st.lists(EVENT, max_size=25),
    retired_months=st.integers(1, 3),
    zone=st.sampled_from(["UTC", "Asia/Tokyo", "America/Los_Angeles"]),
)
def test_replay_from_snapshots_equals_stored_state(
    stream: list[Any], retired_months: int, zone: str, retention: None
) -> None:
    with transaction.atomic():  # each example's partitions and rows go with its savepoint
        event_log_maintain(now=month(0))  # January and two months ahead
        event_log_maintain(now=month(1))  # ... and April
        engine_templates()
        player = UserFactory()
        # Streak days are the player's local days, in the snapshot fold as in ingestion.
        player_timezone_set(user_id=player.pk, timezone=zone, now=month(0) - timedelta(days=2))
        missions_assign(user_ids=[player.pk], now=month(0))
        arrivals = sorted(
            (month(0) + timedelta(days=day, minutes=minute + delay), n, raw)
            for n, (pool_id, action, day, minute, delay) in enumerate(stream)
            for raw in [(pool_id, action, day, minute)]
        )
        for received, _, (pool_id, (action, data), day, minute) in arrivals:
            when = month(0) + timedelta(days=day, minutes=minute)
            events_ingest(
                events=[event(player.pk, action, data, when=when, event_id=f"e{pool_id}{action}")],
                now=received,
            )
        before = replay_users(user_ids=[player.pk], now=month(5))
        assert before.differences == []

        # Retire the first `retired_months` months: retention 2 at month(2 + retired).
        report = event_log_maintain(now=month(2 + retired_months))
        assert len([n for n in report.retired if n >= "missions_event_y2031"]) == retired_months
        after = replay_users(user_ids=[player.pk], now=month(5))
        assert after.horizon == month(retired_months)
        assert after.differences == []
        assert after.events == Event.objects.filter(user=player).count()
        transaction.set_rollback(True)


def test_the_backtest_reads_only_retained_events_and_says_so(retention: None) -> None:
    event_log_maintain(now=month(0))
    player = UserFactory()
    for n, when in enumerate([month(0) + timedelta(days=5), month(2) + timedelta(days=5)]):
        send(player.pk, "post:created", when=when, event_id=f"b{n}")
    template = validate_template(
        {
            "key": "posts_backtest",
            "name": "Posts",
            "category": "content",
            "type": "count",
            "period_type": "monthly",
            "requirements": {"p": req(target=1)},
            "rewards": {"xp": 10},
        }
    )
    window = (month(3) - month(0)).days
    assert template_backtest(template=template, days=window, now=month(3)).events_read == 2
    event_log_maintain(now=month(3))  # January leaves the log
    result = template_backtest(template=template, days=window, now=month(3))
    assert (result.events_read, result.completed, result.log_starts) == (1, 1, month(1))


def test_the_admin_lists_retired_months_read_only(retention: None, admin_client: Any) -> None:
    event_log_maintain(now=month(0))
    event_log_maintain(now=month(3))
    page = admin_client.get("/admin/missions/retiredpartition/")
    assert page.status_code == 200
    assert b"missions_event_y2031m01" in page.content
    assert admin_client.get("/admin/missions/retiredpartition/add/").status_code == 403


def test_the_sqlite_store_dedupes_through_the_same_keys_as_the_sql_one() -> None:
    player = UserFactory()
    batch = [CleanEvent(n, f"k{n}", player.pk, "shoutbox:message", month(0), {}) for n in range(2)]
    assert set(ingest._store_portable(batch, month(0))) == {"k0", "k1"}
    assert ingest._store(batch, month(1)) == {}  # the SQL path sees the portable path's keys
    assert ingest._store_portable(batch, month(1)) == {}
    assert EventKey.objects.count() == Event.objects.count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_make_each_month_once(settings: Any) -> None:
    settings.MISSIONS_EVENT_RETENTION_MONTHS = 0  # keep the months the other tests rely on
    settings.MISSIONS_EVENT_PARTITIONS_AHEAD = 1
    barrier = threading.Barrier(2)

    def worker(_: int) -> list[str]:
        try:
            barrier.wait()
            return event_log_maintain(now=month(0)).created
        finally:
            connection.close()

    try:
        with ThreadPoolExecutor(2) as pool:
            created = [name for names in pool.map(worker, range(2)) for name in names]
        assert sorted(created) == ["missions_event_y2031m01", "missions_event_y2031m02"]
        assert {"missions_event_y2031m01", "missions_event_y2031m02"} <= set(attached())
    finally:
        with connection.cursor() as cursor:  # committed DDL: leave the database as it was
            cursor.execute("DROP TABLE IF EXISTS missions_event_y2031m01, missions_event_y2031m02")
