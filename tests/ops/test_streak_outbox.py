"""A streak step survives the process dying between the commit of a completion and the
`mission_completed` receiver: the completion is the durable outbox entry, counted by the
player's next completion (in order) or by the streaks.credit_pending task."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from missions.models import ActiveMission
from missions.services.replay import replay_events
from streaks import tasks
from streaks.models import Streak, StreakCredit
from tests.factories import UserFactory
from tests.missions.engine import assign, at, event, make_template, req, send

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DAY = datetime(2026, 11, 24, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]

# Ingest in a transaction whose first on-commit callback kills the process: the events and
# the completion are committed, then the process dies before any receiver runs.
DIE_AFTER_COMMIT = """
import json, os, sys
import django
django.setup()
from django.db import transaction
from missions.services.ingest import events_ingest
from django.utils.dateparse import parse_datetime
payload = json.loads(sys.argv[1])
with transaction.atomic():
    transaction.on_commit(lambda: os._exit(9))
    events_ingest(events=payload["events"], now=parse_datetime(payload["now"]))
"""


def ingest_and_die(events: list[dict[str, Any]], now: datetime) -> None:
    db = connection.settings_dict
    # The database this test's connection really uses: under mutmut (several pytest sessions
    # in one process) settings_dict's NAME gains a "test_" prefix per session while the
    # connection pool still serves the first one.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        (name,) = cursor.fetchone()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.django.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            DIE_AFTER_COMMIT,
            json.dumps({"events": events, "now": now.isoformat()}),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 9, done.stderr.decode()[-2000:]


def daily_streak(user: Any) -> tuple[int, Any]:
    streak = Streak.objects.filter(user=user, kind="daily").first()
    return (streak.current, streak.last_completed) if streak else (0, None)


def setup() -> Any:
    make_template(key="daily_post", requirements={"posts": req(target=1)})
    user = UserFactory()
    for day in range(3):
        assign(user.pk, DAY + timedelta(days=day))
    return user


def test_the_sweep_counts_a_completion_whose_receiver_died() -> None:
    user = setup()
    when = DAY + timedelta(hours=9)
    ingest_and_die([event(user.pk, "post:created", when=when)], when)
    mission = ActiveMission.objects.get(period_start=DAY)
    assert mission.state == "completed"  # committed
    assert daily_streak(user) == (0, None)  # the receiver never ran
    assert not StreakCredit.objects.exists()
    problems = replay_events().problems
    assert any("daily streak" in p for p in problems), problems
    out = io.StringIO()
    call_command("replay_events", "--no-progress", stdout=out)
    assert "0 difference(s); streaks and ledger: 1 problem(s)" in out.getvalue()

    assert tasks.credit_pending(now=(DAY + timedelta(hours=10)).isoformat()) == 1
    assert daily_streak(user) == (1, DAY.date())
    assert tasks.credit_pending(now=(DAY + timedelta(hours=11)).isoformat()) == 0
    report = replay_events()
    assert report.differences == [] and report.problems == []
    out = io.StringIO()
    call_command("replay_events", "--no-progress", stdout=out)
    assert "0 difference(s); streaks and ledger: 0 problem(s)" in out.getvalue()


def test_the_next_completion_counts_the_lost_day_first() -> None:
    user = setup()
    send(user.pk, "post:created", when=DAY + timedelta(hours=8))
    assert daily_streak(user) == (1, DAY.date())
    # Day 2's completion is committed, then the process dies.
    day2 = DAY + timedelta(days=1)
    when = day2 + timedelta(hours=9)
    ingest_and_die([event(user.pk, "post:created", when=when)], when)
    assert daily_streak(user) == (1, DAY.date())
    # Day 3 completes normally, before any sweep: day 2 is counted first, no break.
    day3 = DAY + timedelta(days=2)
    send(user.pk, "post:created", when=day3 + timedelta(hours=9))
    assert daily_streak(user) == (3, day3.date())
    assert not Streak.objects.get(user=user, kind="daily").breaks.exists()
    assert StreakCredit.objects.count() == 3
    report = replay_events()
    assert report.differences == [] and report.problems == []


def test_a_late_event_completing_yesterday_counts_that_day_and_replay_agrees() -> None:
    make_template(key="late_daily", period_type="daily", requirements={"p": req(target=1)})
    user = UserFactory()
    monday, tuesday, wednesday = at(0), at(1), at(2)
    send(user.pk, "post:created", when=monday + timedelta(hours=12))
    send(user.pk, "post:created", when=wednesday + timedelta(minutes=10))
    streak = Streak.objects.get(user=user, kind="daily")
    assert (streak.current, streak.breaks.count()) == (1, 1)  # Tuesday looks missed
    # Tuesday's post, made at 23:50, arrives 20 minutes after midnight: inside the late-event
    # grace it completes Tuesday's mission, after Wednesday was counted.
    send(
        user.pk,
        "post:created",
        when=tuesday + timedelta(hours=23, minutes=50),
        received=wednesday + timedelta(minutes=20),
    )
    tuesday_mission = ActiveMission.objects.get(user=user, period_start=tuesday)
    assert tuesday_mission.state == "completed"
    streak.refresh_from_db()
    # SPEC.md: a day counts when the player completes a daily mission — Tuesday too.
    assert (streak.current, streak.best, streak.last_completed) == (3, 3, wednesday.date())
    assert not streak.breaks.exists()
    assert StreakCredit.objects.filter(user=user).count() == 3
    report = replay_events(now=wednesday + timedelta(hours=2))
    assert report.differences == [] and report.problems == []


def test_a_late_day_a_freeze_covered_extends_the_run_and_the_freeze_stays_spent() -> None:
    from rewards.models import InventoryItem, Item

    make_template(key="late_frozen", period_type="daily", requirements={"p": req(target=1)})
    user = UserFactory()
    item, _ = Item.objects.get_or_create(key="streak_freeze", defaults={"name": "Streak Freeze"})
    InventoryItem.objects.create(user=user, item=item, qty=1)
    monday, tuesday, wednesday = at(0), at(1), at(2)
    send(user.pk, "post:created", when=monday + timedelta(hours=12))
    send(user.pk, "post:created", when=wednesday + timedelta(minutes=10))
    streak = Streak.objects.get(user=user, kind="daily")
    assert streak.current == 2 and streak.freezes_used.count() == 1  # Tuesday frozen
    send(
        user.pk,
        "post:created",
        when=tuesday + timedelta(hours=23, minutes=50),
        received=wednesday + timedelta(minutes=20),
    )
    streak.refresh_from_db()
    assert (streak.current, streak.best, streak.last_completed) == (3, 3, wednesday.date())
    assert InventoryItem.objects.get(user=user, item=item).qty == 0
    report = replay_events(now=wednesday + timedelta(hours=2))
    assert report.differences == [] and report.problems == []
