"""Admin hygiene: seeding never reverts an admin's edit; balances, inventory, awards and levels
change only through the grant action (one grant path, reason in the ledger)."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core.management import call_command

from missions.builder.forms import template_as_json
from missions.management.commands.seed_demo import DEMO_TEMPLATES
from missions.models import MissionTemplate, PlayerProfile
from rewards.models import Badge, Balance, InventoryItem, Item, LedgerEntry, UserBadge, UserTitle
from tests.factories import UserFactory
from tests.missions.test_builder import form_data


@pytest.mark.django_db
def test_seeding_again_keeps_a_template_an_admin_edited(admin_client: Any) -> None:
    call_command("seed_demo", players=1, stdout=StringIO())
    # seed_demo resets the demo admin's password, which ends the fixture's session
    admin_client.force_login(get_user_model().objects.get(username="admin"))
    keys = [t["key"] for t in json.loads(DEMO_TEMPLATES.read_text())]
    edited, untouched = (MissionTemplate.objects.get(key=k) for k in keys[:2])
    data = form_data({**template_as_json(edited), "name": "Renamed by an admin"})
    response = admin_client.post(f"/admin/missions/missiontemplate/{edited.pk}/change/", data)
    assert response.status_code == 302
    MissionTemplate.objects.filter(pk=untouched.pk).update(name="changed behind the admin")

    out = StringIO()
    call_command("seed_demo", players=1, stdout=out)

    assert MissionTemplate.objects.get(pk=edited.pk).name == "Renamed by an admin"
    assert MissionTemplate.objects.get(pk=untouched.pk).name == untouched.name
    assert "1 kept as an admin edited them" in out.getvalue()


@pytest.fixture
def player(db: None) -> Any:
    user = UserFactory()
    PlayerProfile.objects.create(user=user, level=3)
    return user


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["inventoryitem", "userbadge", "usertitle", "balance"])
def test_inventory_awards_and_balances_cannot_be_added_or_edited(
    admin_client: Any, model: str
) -> None:
    assert admin_client.get(f"/admin/rewards/{model}/").status_code == 200
    assert admin_client.get(f"/admin/rewards/{model}/add/").status_code == 403


@pytest.mark.django_db
def test_a_players_level_is_read_only(admin_client: Any, player: Any) -> None:
    profile = PlayerProfile.objects.get(user=player)
    url = f"/admin/missions/playerprofile/{profile.pk}/change/"
    assert admin_client.get(url).status_code == 200
    admin_client.post(url, {"user": player.pk, "level": 99})
    profile.refresh_from_db()
    assert profile.level == 3
    assert admin_client.get("/admin/missions/playerprofile/add/").status_code == 403


def grant(admin_client: Any, profile: PlayerProfile, **fields: Any) -> Any:
    return admin_client.post(
        "/admin/missions/playerprofile/",
        {"action": "grant_rewards", ACTION_CHECKBOX_NAME: [profile.pk], "apply": "1", **fields},
    )


@pytest.mark.django_db
def test_the_grant_action_goes_through_the_ledger_with_the_reason(
    admin_client: Any, player: Any
) -> None:
    Item.objects.create(key="streak_freeze", name="Streak Freeze")
    Badge.objects.create(key="vip", name="VIP")
    profile = PlayerProfile.objects.get(user=player)
    response = grant(
        admin_client,
        profile,
        xp=250,
        dgt="2.5",
        item="streak_freeze",
        qty=2,
        badge="vip",
        reason="support ticket 42",
    )
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(user=player)
    assert (entry.xp, entry.dgt) == (250, Decimal("2.5"))
    assert entry.reason == "admin grant by admin: support ticket 42"
    balance = Balance.objects.get(user=player)
    assert (balance.xp, balance.dgt) == (250, Decimal("2.5"))
    assert InventoryItem.objects.get(user=player).qty == 2
    assert UserBadge.objects.filter(user=player, badge__key="vip").exists()
    assert not UserTitle.objects.filter(user=player).exists()


@pytest.mark.django_db
def test_a_bad_grant_shows_its_error_and_grants_nothing(admin_client: Any, player: Any) -> None:
    profile = PlayerProfile.objects.get(user=player)
    response = grant(admin_client, profile, dgt="1e3", reason="typo")
    assert response.status_code == 200
    assert "dgt" in response.context["form"].errors
    response = grant(admin_client, profile, xp=5, reason="")
    assert "reason" in response.context["form"].errors
    assert not LedgerEntry.objects.filter(user=player).exists()


@pytest.mark.django_db
def test_mission_progress_is_not_spelled_progresss(admin_client: Any) -> None:
    body = admin_client.get("/admin/").content.decode()
    assert "Mission progress<" in body
    assert "progresss" not in body
