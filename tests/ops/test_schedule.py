"""The schedule is declared once (config/schedule.py) and lives in PeriodicTask rows that
`setup_schedule` creates idempotently and admins can see and edit; every declared task
exists; auto-grant through its task; /healthz reports beat's heartbeat."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from celery import current_app
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.schedule import SCHEDULE
from missions import tasks
from missions.models import ActiveMission
from rewards import tasks as reward_tasks
from rewards.errors import AlreadyClaimed
from rewards.models import Claim
from rewards.selectors import ledger_differences
from rewards.services import mission_claim
from tests.factories import UserFactory
from tests.missions.engine import make_template, req, send

pytestmark = pytest.mark.django_db


def test_setup_schedule_creates_every_declared_task_once_and_keeps_admin_edits() -> None:
    call_command("setup_schedule")
    assert PeriodicTask.objects.filter(name__in=[e.name for e in SCHEDULE]).count() == len(SCHEDULE)
    rollover = PeriodicTask.objects.get(name="missions: local rollover")
    assert (rollover.task, json.loads(rollover.kwargs)) == ("missions.rollover_local", {})
    # Every quarter hour: each UTC offset's midnight (Kathmandu's +05:45 too) is a run.
    assert (rollover.crontab.minute, rollover.crontab.hour, str(rollover.crontab.timezone)) == (
        "0,15,30,45",
        "*",
        "UTC",
    )
    # An admin disables a task; running the command again keeps that, --reset restores it.
    rollover.enabled = False
    rollover.save()
    call_command("setup_schedule")
    assert PeriodicTask.objects.filter(name__in=[e.name for e in SCHEDULE]).count() == len(SCHEDULE)
    assert not PeriodicTask.objects.get(name="missions: local rollover").enabled
    call_command("setup_schedule", "--reset")
    assert PeriodicTask.objects.get(name="missions: local rollover").enabled


def test_every_scheduled_task_is_registered() -> None:
    current_app.loader.import_default_modules()  # what a worker does at start (autodiscovery)
    for entry in SCHEDULE:
        assert entry.task in current_app.tasks, entry.task


def test_the_admin_lists_the_periodic_tasks(admin_client: Client) -> None:
    call_command("setup_schedule")
    page = admin_client.get("/admin/django_celery_beat/periodictask/")
    assert page.status_code == 200
    assert b"missions: local rollover" in page.content
    assert admin_client.get("/admin/missions/lifecyclerun/").status_code == 200


def test_auto_grant_pays_after_the_grace_time_and_a_late_claim_gets_409(settings: Any) -> None:
    settings.MISSIONS_CLAIM_GRACE_HOURS = 24
    make_template(key="daily_post", requirements={"p": req(target=1)}, rewards={"xp": 40})
    player = UserFactory()
    day = datetime(2026, 11, 24, tzinfo=UTC)
    send(player.pk, "post:created", when=day + timedelta(hours=3))
    mission = ActiveMission.objects.get()
    assert mission.state == "completed"
    end_of_grace = day + timedelta(days=1, hours=24)
    assert (
        reward_tasks.auto_grant_unclaimed(now=(end_of_grace - timedelta(seconds=1)).isoformat())
        == 0
    )
    assert reward_tasks.auto_grant_unclaimed(now=end_of_grace.isoformat()) == 1
    assert reward_tasks.auto_grant_unclaimed(now=end_of_grace.isoformat()) == 0
    assert Claim.objects.get(mission=mission).source == "auto_grant"
    with pytest.raises(AlreadyClaimed):
        mission_claim(mission_id=mission.pk, user_id=player.pk, now=end_of_grace)
    assert ledger_differences() == []


def test_healthz_reports_the_age_of_beats_heartbeat(client: Client, settings: Any) -> None:
    settings.OPS_EXPECT_BEAT = True
    settings.OPS_BEAT_STALE_SECONDS = 300
    body = client.get("/healthz").json()
    assert (body["status"], body["beat"]["status"]) == ("degraded", "never")
    tasks.beat_heartbeat(now=(timezone.now() - timedelta(seconds=30)).isoformat())
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["beat"]["status"] == "ok"
    assert 30 <= body["beat"]["age_seconds"] < 300
    tasks.beat_heartbeat(now=(timezone.now() - timedelta(seconds=301)).isoformat())
    response = client.get("/healthz")
    assert response.status_code == 200  # degraded: still serving
    assert (response.json()["status"], response.json()["beat"]["status"]) == ("degraded", "stale")
    settings.OPS_EXPECT_BEAT = False  # `make run` without Redis has no beat
    assert client.get("/healthz").json()["status"] == "ok"
