"""Emission guardrails: an optional daily budget; the backtest, the dashboard and publishing
compare projected and actual emission with it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import override_settings
from django.utils import timezone

from missions.services.ingest import events_ingest
from tests.factories import TemplateFactory, UserFactory
from tests.missions.test_backtest import TWO_POSTS
from tests.missions.test_builder import form_data


def _two_posts_yesterday() -> None:
    user = UserFactory()
    sent = timezone.now() - timedelta(days=1)
    for index in range(2):
        at = sent + timedelta(minutes=index)
        events_ingest(
            now=at,
            events=[
                {
                    "id": f"econ-{index}",
                    "user_id": user.pk,
                    "action": "post:created",
                    "occurred_at": at.isoformat(),
                    "data": {},
                }
            ],
        )


def _backtest(admin_client: Any) -> str:
    data = form_data(TWO_POSTS)
    data.update(backtest_days="7")
    url = "/admin/missions/missiontemplate/builder/backtest/"
    return str(admin_client.post(url, data).content.decode())


@pytest.mark.django_db
def test_the_backtest_warns_when_the_projection_exceeds_the_budget(admin_client: Any) -> None:
    _two_posts_yesterday()  # one completion in 7-8 days: 1.25 DGT / 7-8 ≈ 0.16-0.18 DGT a day
    with override_settings(ECONOMY_DAILY_DGT_BUDGET="0.1"):
        assert "Over budget — DGT" in _backtest(admin_client)
    with override_settings(ECONOMY_DAILY_DGT_BUDGET="5"):
        assert "Over budget" not in _backtest(admin_client)
    assert "Over budget" not in _backtest(admin_client)  # no budget set


def _spender(**fields: Any) -> Any:
    return TemplateFactory(
        key="spender",
        is_active=False,
        requirements={"p": {"action": "post:created", "target": 2, "label": "2 posts"}},
        rewards={"xp": 1000},
        **fields,
    )


def _activate(admin_client: Any, template: Any, **extra: str) -> Any:
    return admin_client.post(
        "/admin/missions/missiontemplate/",
        {"action": "activate", ACTION_CHECKBOX_NAME: [template.pk], **extra},
        follow=True,
    )


@pytest.mark.django_db
def test_activating_a_template_over_budget_asks_first(admin_client: Any) -> None:
    _two_posts_yesterday()
    template = _spender()
    with override_settings(ECONOMY_DAILY_XP_BUDGET="10"):
        asked = _activate(admin_client, template).content.decode()
        template.refresh_from_db()
        assert not template.is_active  # nothing changes before the admin confirms
        assert "Activate over the emission budget?" in asked
        assert 'name="confirm_over_budget" value="yes"' in asked
        assert "exceeds the daily budget of 10" in asked
        done = _activate(admin_client, template, confirm_over_budget="yes").content.decode()
    template.refresh_from_db()
    assert template.is_active
    assert "spender published over budget: xp" in done.lower()


@pytest.mark.django_db
def test_activating_within_the_budget_or_without_one_asks_nothing(admin_client: Any) -> None:
    _two_posts_yesterday()
    template = _spender()
    with override_settings(ECONOMY_DAILY_XP_BUDGET="100000"):
        body = _activate(admin_client, template).content.decode()
    template.refresh_from_db()
    assert template.is_active and "over budget" not in body.lower()
    other = TemplateFactory(key="other", is_active=False, rewards={"xp": 1000})
    _activate(admin_client, other)
    other.refresh_from_db()
    assert other.is_active


def _change_page_post(admin_client: Any, template: Any, **extra: Any) -> Any:
    from missions.builder.forms import template_as_json

    data = form_data({**template_as_json(template), "is_active": True})
    data.update(extra)
    return admin_client.post(f"/admin/missions/missiontemplate/{template.pk}/change/", data)


@pytest.mark.django_db
def test_publishing_from_the_builder_over_budget_needs_the_box_ticked(admin_client: Any) -> None:
    _two_posts_yesterday()
    template = _spender()
    with override_settings(ECONOMY_DAILY_XP_BUDGET="10"):
        refused = _change_page_post(admin_client, template)
        assert refused.status_code == 200  # the form again, with its errors
        errors = refused.context["adminform"].form.errors
        assert "Over budget — XP" in errors["is_active"][0]
        assert "publish_over_budget" in errors
        template.refresh_from_db()
        assert not template.is_active
        saved = _change_page_post(admin_client, template, publish_over_budget="on")
        assert saved.status_code == 302
    template.refresh_from_db()
    assert template.is_active
    # saving it inactive, or with no budget set, asks nothing
    template.is_active = False
    template.save()
    assert _change_page_post(admin_client, template).status_code == 302


@pytest.mark.django_db
def test_the_backtest_panel_shows_emission_against_the_budget(admin_client: Any) -> None:
    _two_posts_yesterday()
    with override_settings(ECONOMY_DAILY_XP_BUDGET="1", ECONOMY_DAILY_DGT_BUDGET="5"):
        body = _backtest(admin_client)
    assert 'id="backtest-emission"' in body
    xp_row = body.split('data-unit="XP"')[1].split("</tr>")[0]
    dgt_row = body.split('data-unit="DGT"')[1].split("</tr>")[0]
    assert "over budget" in xp_row and "within" in dgt_row
    assert "will ask for confirmation" in body
    assert "none set" in _backtest(admin_client)


@pytest.mark.django_db
def test_the_dashboard_shows_emission_against_the_budget(admin_client: Any) -> None:
    with override_settings(ECONOMY_DAILY_DGT_BUDGET="3"):
        body = admin_client.get("/admin/analytics/").content.decode()
    assert 'id="emission"' in body and "daily budget 3 DGT" in body
    body = admin_client.get("/admin/analytics/").content.decode()
    assert "no daily budget set" in body


@pytest.mark.django_db
def test_the_emission_series_has_actual_projected_and_budget_per_day(admin_client: Any) -> None:
    from datetime import date
    from decimal import Decimal

    from analytics.models import DayTotals
    from analytics.selectors import emission_series

    today = date(2026, 11, 30)
    paid = {today - timedelta(days=n): (10 * n, Decimal(n) / 2) for n in range(0, 10)}
    for day, (xp, dgt) in paid.items():
        DayTotals.objects.create(
            day=day, xp_awarded=xp, dgt_awarded=dgt, refreshed_at=timezone.now()
        )
    series = emission_series(start=today - timedelta(days=2), end=today, today=today)
    # three days of the range, then 7 projected days after today
    assert len(series["labels"]) == 10 and series["labels"][0] == "2026-11-28"
    assert series["xp"][:3] == [20.0, 10.0, 0.0] and series["xp"][3:] == [None] * 7
    assert series["dgt"][:3] == [1.0, 0.5, 0.0]
    # projected for a day: the mean of the 7 days before it (for 11-28: 11-21 … 11-27)
    assert series["xp_projected"][0] == round(sum(10 * n for n in range(3, 10)) / 7, 2)
    # after today: the mean of the 7 days up to today, as the builder's budget check uses
    assert series["xp_projected"][3:] == [round(sum(10 * n for n in range(0, 7)) / 7, 2)] * 7
    assert series["dgt_projected"][-1] == round(sum(n / 2 for n in range(0, 7)) / 7, 8)

    with override_settings(ECONOMY_DAILY_XP_BUDGET="50"):
        page = admin_client.get("/admin/analytics/")
    charts = page.context["charts"]["emission"]
    assert charts["xp_budget"] == 50.0 and charts["dgt_budget"] is None
    body = page.content.decode()
    assert 'id="chart-emission-xp"' in body and 'id="chart-emission-dgt"' in body
