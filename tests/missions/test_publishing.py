"""Publishing from the template admin: activate, deactivate, duplicate, assign now (set-based,
outside the draw), and each template's players now, completion rate and claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from missions.builder.selectors import template_stats
from missions.models import ActiveMission, MissionTemplate, PlayerProfile
from missions.services import missions_assign
from missions.services.publishing import template_assign_now
from tests.factories import TemplateFactory, UserFactory, requirement

LIST = "/admin/missions/missiontemplate/"


def act(admin_client: Any, action: str, *templates: MissionTemplate) -> Any:
    return admin_client.post(
        LIST,
        {"action": action, ACTION_CHECKBOX_NAME: [t.pk for t in templates]},
        follow=True,
    )


@pytest.mark.django_db
def test_assign_now_reaches_players_whose_daily_draw_is_done() -> None:
    now = datetime(2026, 11, 27, 15, tzinfo=UTC)
    TemplateFactory(key="old_daily")
    players = [UserFactory() for _ in range(4)]
    low = players[0]
    PlayerProfile.objects.create(user=low, level=1)
    for user in players[1:]:
        PlayerProfile.objects.create(user=user, level=5)
    missions_assign(user_ids=[u.pk for u in players], now=now)
    new = TemplateFactory(key="new_daily", min_level=3)
    ids = [u.pk for u in players]
    # the draw for today is done: a plain assignment run adds nothing
    assert missions_assign(user_ids=ids, now=now) == []

    assert template_assign_now(template=new, now=now, user_ids=ids) == 3
    assert template_assign_now(template=new, now=now, user_ids=ids) == 0
    got = ActiveMission.objects.filter(template=new)
    assert sorted(got.values_list("user_id", flat=True)) == ids[1:]
    mission = got.first()
    assert mission is not None and mission.period_start == datetime(2026, 11, 27, tzinfo=UTC)
    assert mission.progress.count() == 1


@pytest.mark.django_db
def test_assign_now_skips_inactive_and_out_of_window_templates() -> None:
    now = timezone.now()
    user = UserFactory()
    inactive = TemplateFactory(key="off", is_active=False)
    ended = TemplateFactory(
        key="ended",
        period_type="special",
        starts_at=now - timedelta(days=9),
        ends_at=now - timedelta(days=2),
    )
    assert template_assign_now(template=inactive, now=now, user_ids=[user.pk]) == 0
    assert template_assign_now(template=ended, now=now, user_ids=[user.pk]) == 0


@pytest.mark.django_db
def test_the_admin_assigns_now_and_the_player_sees_it(admin_client: Any, client: Any) -> None:
    template = TemplateFactory(
        key="fresh", name="Fresh mission", requirements={"r": requirement("thread:created", 1)}
    )
    player = UserFactory()
    response = act(admin_client, "assign_now", template)
    assert "fresh: assigned to 2 more player(s)" in response.content.decode().lower()  # + admin
    client.force_login(player)
    missions = client.get("/api/v1/missions").json()
    assert [m["key"] for m in missions if m["key"] == "fresh"] == ["fresh"]


@pytest.mark.django_db
def test_activate_deactivate_and_duplicate_are_logged(admin_client: Any) -> None:
    template = TemplateFactory(key="t_one", is_active=False)
    act(admin_client, "activate", template)
    template.refresh_from_db()
    assert template.is_active
    act(admin_client, "deactivate", template)
    template.refresh_from_db()
    assert not template.is_active
    act(admin_client, "duplicate", template)
    act(admin_client, "duplicate", template)
    copies = MissionTemplate.objects.filter(key__startswith="t_one_copy").order_by("key")
    assert [c.key for c in copies] == ["t_one_copy", "t_one_copy2"]
    assert all(not c.is_active and c.requirements == template.requirements for c in copies)
    messages = list(LogEntry.objects.values_list("change_message", flat=True))
    assert "Activated." in messages and "Deactivated." in messages
    assert sum("Duplicated from t_one." in m for m in messages) == 2


@pytest.mark.django_db
def test_each_template_shows_players_now_completion_rate_and_claims(admin_client: Any) -> None:
    now = timezone.now()
    template = TemplateFactory(key="counted")
    users = [UserFactory() for _ in range(4)]
    missions = missions_assign(user_ids=[u.pk for u in users], now=now)
    assert len(missions) == 4
    ids = [m.pk for m in missions]
    ActiveMission.objects.filter(pk__in=ids[:2]).update(state="completed", completed_at=now)
    ActiveMission.objects.filter(pk=ids[0]).update(state="claimed", claimed_at=now)
    # an earlier period's mission: assigned and not completed, not held now
    ActiveMission.objects.create(
        template=template,
        user=users[0],
        period_type="daily",
        period_start=now - timedelta(days=3),
        period_end=now - timedelta(days=2),
        assigned_at=now - timedelta(days=3),
        state="expired",
    )
    stats = template_stats(template_ids=[template.pk], now=now)[template.pk]
    assert (stats.holding_now, stats.assigned, stats.completed, stats.claimed) == (4, 5, 2, 1)
    body = admin_client.get(LIST).content.decode()
    assert '<td class="field-players_now">4</td>' in body
    assert '<td class="field-completion_rate">40.0 %</td>' in body
    assert '<td class="field-claims">1</td>' in body
    page = admin_client.get(f"{LIST}{template.pk}/change/").content.decode()
    assert "4 player(s) have it now; 2 of 5 assigned completed (40.0 %); 1 claimed" in page
