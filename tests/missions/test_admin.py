from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from missions.models import ActiveMission, MissionProgress
from missions.services import missions_assign
from tests.factories import TemplateFactory, UserFactory

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


@pytest.fixture
def mission(db: None) -> ActiveMission:
    TemplateFactory(key="daily_one")
    return missions_assign(user_ids=[UserFactory().pk], now=NOW)[0]


@pytest.mark.django_db
def test_missions_and_progress_can_be_viewed_but_not_edited_in_the_admin(
    admin_client: Any, mission: ActiveMission
) -> None:
    from django.contrib import admin

    from missions.admin import ActiveMissionAdmin, MissionProgressAdmin

    assert type(admin.site._registry[ActiveMission]) is ActiveMissionAdmin
    assert type(admin.site._registry[MissionProgress]) is MissionProgressAdmin
    progress = MissionProgress.objects.get(mission=mission)
    for model, obj in (("activemission", mission), ("missionprogress", progress)):
        base = f"/admin/missions/{model}/"
        assert admin_client.get(base).status_code == 200
        assert admin_client.get(f"{base}{obj.pk}/change/").status_code == 200
        assert admin_client.get(f"{base}add/").status_code == 403
        assert admin_client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    admin_client.post(
        f"/admin/missions/activemission/{mission.pk}/change/",
        {"state": "claimed", "template": mission.template_id, "user": mission.user_id},
    )
    mission.refresh_from_db()
    assert mission.state == "active"


@pytest.mark.django_db
def test_the_template_form_shows_the_validators_errors_on_their_fields(admin_client: Any) -> None:
    response = admin_client.post(
        "/admin/missions/missiontemplate/add/",
        {
            "key": "bad_one",
            "name": "Bad",
            "category": "social",
            "type": "count",
            "period_type": "daily",
            "weight": 100,
            "min_level": 1,
            "is_active": "on",
            "requirements": '{"r": {"action": "post:created", "target": -1, "label": "x"}}',
            "rewards": "{}",
            "prerequisites": "{}",
            "metadata": "{}",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "requirements.r.target" in body and "between 1 and" in body
    assert "This field is required" not in body
