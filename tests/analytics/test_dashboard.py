"""Analytics on a known dataset: the rollups and the dashboard's figures equal what the test
computes on its own from the rows it made."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from analytics.models import DayTotals, TemplateDay
from analytics.selectors import completion_by, daily_series, dashboard_kpis, template_ranking
from analytics.services import analytics_refresh
from missions.models import ActiveMission, Event
from rewards.models import Claim
from rewards.services import rewards_grant
from tests.factories import TemplateFactory, UserFactory

DAYS = 6
# the range under test ends today (the append-only ledger stamps payouts with today's date);
# the 6 days before it are the previous range
START = datetime.now(UTC).date() - timedelta(days=DAYS - 1)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def dataset(db: None) -> dict[str, Any]:
    rng = random.Random(7)
    easy = TemplateFactory(key="easy_one", category="content", metadata={"difficulty": "easy"})
    hard = TemplateFactory(key="hard_one", category="social", metadata={"difficulty": "hard"})
    bare = TemplateFactory(key="bare", category="content")
    users = [UserFactory() for _ in range(6)]
    missions = []
    for offset in range(-DAYS, DAYS):  # the previous range too
        day = START + timedelta(days=offset)
        for user in users:
            for template in (easy, hard, bare):
                roll = rng.random()
                state = "completed" if roll < 0.5 else ("expired" if roll < 0.8 else "active")
                if template is hard and roll < 0.2:
                    state = "failed"
                assigned = _at(day, 0)
                completed = _at(day, rng.randint(1, 20)) if state == "completed" else None
                claimed = completed + timedelta(minutes=5) if completed and roll < 0.3 else None
                missions.append(
                    ActiveMission.objects.create(
                        template=template,
                        user=user,
                        period_type="daily",
                        period_start=assigned,
                        period_end=assigned + timedelta(days=1),
                        assigned_at=assigned,
                        completed_at=completed,
                        claimed_at=claimed,
                        state="claimed" if claimed else state,
                    )
                )
        for user in users[: 2 + (offset % 4)]:
            Event.objects.create(
                event_id=f"e-{day}-{user.pk}",
                user=user,
                action="post:created",
                occurred_at=_at(day, 9),
                received_at=_at(day, 9),
                data={},
            )
    for mission in missions:
        if mission.claimed_at:
            grant = rewards_grant(
                user_id=mission.user_id,
                rewards={"xp": 10 + mission.pk % 7, "dgt": "0.5"},
                idempotency_key=f"mission:{mission.pk}",
                reason="test payout",
                mission_id=mission.pk,
            )
            if mission.pk % 2:  # a claim dates its payout (the others: the ledger entry)
                Claim.objects.create(
                    mission=mission,
                    user_id=mission.user_id,
                    ledger_entry=grant.entry,
                    source="claim",
                    base_rewards={},
                    created_at=mission.claimed_at,
                )
    analytics_refresh(start=START - timedelta(days=DAYS), end=START + timedelta(days=DAYS - 1))
    return {"missions": missions, "users": users}


def _in(rows: list[ActiveMission], start: date, end: date) -> list[ActiveMission]:
    return [m for m in rows if start <= m.period_start.date() <= end]


def _expected(missions: list[ActiveMission], start: date, end: date) -> dict[str, Any]:
    from rewards.models import LedgerEntry

    rows = _in(missions, start, end)
    done = [m for m in rows if m.completed_at]
    days = (end - start).days + 1
    active = {
        (e.occurred_at.date(), e.user_id)
        for e in Event.objects.all()
        if start <= e.occurred_at.date() <= end
    }
    claimed = {c.ledger_entry_id: c.created_at for c in Claim.objects.all()}
    paid = [
        e
        for e in LedgerEntry.objects.filter(mission__isnull=False)
        if start <= claimed.get(e.pk, e.created_at).date() <= end
    ]
    seconds = sum((m.completed_at - m.assigned_at).total_seconds() for m in done)
    return {
        "completion_rate": (Decimal(len(done)) * 100 / len(rows)).quantize(Decimal("0.1")),
        "dau": (Decimal(len(active)) / days).quantize(Decimal("0.1")),
        "minutes_to_complete": (Decimal(seconds) / (len(done) * 60)).quantize(Decimal("0.1")),
        "xp": Decimal(sum(e.xp for e in paid)),
        "dgt": sum((e.dgt for e in paid), Decimal(0)),
    }


def test_the_kpis_and_their_change_match_an_independent_count(dataset: dict[str, Any]) -> None:
    end = START + timedelta(days=DAYS - 1)
    now = _expected(dataset["missions"], START, end)
    before = _expected(dataset["missions"], START - timedelta(days=DAYS), START - timedelta(days=1))
    kpis = {k.key: k for k in dashboard_kpis(start=START, end=end)}
    for key, value in now.items():
        assert kpis[key].value == value, key
        assert kpis[key].previous == before[key], key
    rate = kpis["completion_rate"]
    assert rate.change == ((rate.value - rate.previous) / rate.previous * 100).quantize(
        Decimal("0.1")
    )


def test_completed_and_abandoned_per_day(dataset: dict[str, Any]) -> None:
    end = START + timedelta(days=DAYS - 1)
    series = daily_series(start=START, end=end)
    assert series["labels"][0] == START.isoformat() and len(series["labels"]) == DAYS
    for i, label in enumerate(series["labels"]):
        day_rows = [m for m in dataset["missions"] if m.period_start.date().isoformat() == label]
        assert series["completed"][i] == sum(1 for m in day_rows if m.completed_at)
        assert series["abandoned"][i] == sum(1 for m in day_rows if m.state == "expired")


def test_completion_by_category_and_difficulty(dataset: dict[str, Any]) -> None:
    end = START + timedelta(days=DAYS - 1)
    rows = _in(dataset["missions"], START, end)
    for field, of in (
        ("category", lambda m: m.template.category),
        ("difficulty", lambda m: (m.template.metadata or {}).get("difficulty") or "(not set)"),
    ):
        got = {r["label"]: r for r in completion_by(field=field, start=START, end=end)}
        for label in {of(m) for m in rows}:
            group = [m for m in rows if of(m) == label]
            done = sum(1 for m in group if m.completed_at)
            assert got[label]["assigned"] == len(group)
            assert got[label]["rate"] == (Decimal(done) * 100 / len(group)).quantize(Decimal("0.1"))


def test_templates_ranked_by_completion_rate(dataset: dict[str, Any]) -> None:
    end = START + timedelta(days=DAYS - 1)
    ranking = template_ranking(start=START, end=end)
    rates = [r["rate"] for r in ranking]
    assert rates == sorted(rates, reverse=True) and len(ranking) == 3
    rows = _in(dataset["missions"], START, end)
    best = ranking[0]
    group = [m for m in rows if m.template_id == best["template_id"]]
    assert best["completed"] == sum(1 for m in group if m.completed_at)


def test_refreshing_again_replaces_the_range(dataset: dict[str, Any]) -> None:
    before = TemplateDay.objects.count(), DayTotals.objects.count()
    analytics_refresh(start=START, end=START + timedelta(days=DAYS - 1))
    assert (TemplateDay.objects.count(), DayTotals.objects.count()) == before
    assert TemplateDay.objects.count() == 3 * 2 * DAYS


def test_the_dashboard_page_csv_and_index(admin_client: Any, dataset: dict[str, Any]) -> None:
    end = START + timedelta(days=DAYS - 1)
    query = {"start": START.isoformat(), "end": end.isoformat()}
    page = admin_client.get("/admin/analytics/", query)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-kpi="completion_rate"' in body and "chart-4.6.1.umd.min.js" in body
    assert page.context["series"]["completed"] == daily_series(start=START, end=end)["completed"]
    export = admin_client.get("/admin/analytics/export.csv", query)
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0][:4] == ["day", "template", "category", "difficulty"]
    assert len(rows) == 1 + 3 * DAYS
    index = admin_client.get("/admin/")
    assert (
        'data-kpi="dau"' in index.content.decode() and "Mission progress" in index.content.decode()
    )
    bad = admin_client.get("/admin/analytics/", {"start": "2026-13-01"})
    assert "start: must be a date YYYY-MM-DD" in bad.content.decode()


def test_refresh_now_rebuilds_the_range(admin_client: Any, dataset: dict[str, Any]) -> None:
    TemplateDay.objects.all().delete()
    end = START + timedelta(days=DAYS - 1)
    response = admin_client.post(
        f"/admin/analytics/refresh/?start={START.isoformat()}&end={end.isoformat()}"
    )
    assert response.status_code == 302
    assert TemplateDay.objects.count() == 3 * DAYS


def test_the_scheduled_task_rebuilds_the_recent_days(dataset: dict[str, Any]) -> None:
    from analytics.tasks import refresh_rollups
    from config.schedule import SCHEDULE

    TemplateDay.objects.all().delete()
    assert refresh_rollups() > 0
    assert TemplateDay.objects.filter(day=START).count() == 3
    assert any(e.task == "analytics.refresh_rollups" for e in SCHEDULE)
