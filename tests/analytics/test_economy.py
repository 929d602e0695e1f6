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


@pytest.mark.django_db
def test_activating_a_template_over_budget_warns(admin_client: Any) -> None:
    _two_posts_yesterday()
    template = TemplateFactory(
        key="spender",
        is_active=False,
        requirements={"p": {"action": "post:created", "target": 2, "label": "2 posts"}},
        rewards={"xp": 1000},
    )
    with override_settings(ECONOMY_DAILY_XP_BUDGET="10"):
        response = admin_client.post(
            "/admin/missions/missiontemplate/",
            {"action": "activate", ACTION_CHECKBOX_NAME: [template.pk]},
            follow=True,
        )
    assert "spender is over budget: xp" in response.content.decode().lower()


@pytest.mark.django_db
def test_the_dashboard_shows_emission_against_the_budget(admin_client: Any) -> None:
    with override_settings(ECONOMY_DAILY_DGT_BUDGET="3"):
        body = admin_client.get("/admin/analytics/").content.decode()
    assert 'id="emission"' in body and "daily budget 3 DGT" in body
    body = admin_client.get("/admin/analytics/").content.decode()
    assert "no daily budget set" in body
