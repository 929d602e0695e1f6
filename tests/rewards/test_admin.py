"""The ledger, balances and claims are written by services only: the admin shows them and
refuses every write (add, change, delete, and the bulk delete action)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.urls import reverse

from rewards.models import Balance, Claim, LedgerEntry
from rewards.services import mission_claim

from .helpers import NOW, mission, player

pytestmark = pytest.mark.django_db


def assert_read_only(client: Any, obj: Any, change: dict[str, Any]) -> None:
    meta = obj._meta
    name = f"admin:{meta.app_label}_{meta.model_name}"
    model_admin = admin.site._registry[type(obj)]
    request = client.get(reverse(f"{name}_changelist")).wsgi_request
    assert model_admin.has_view_permission(request, obj)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, obj)
    assert not model_admin.has_delete_permission(request, obj)
    assert "delete_selected" not in model_admin.get_actions(request)

    page = client.get(reverse(f"{name}_change", args=[obj.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get(reverse(f"{name}_add")).status_code == 403
    assert client.post(reverse(f"{name}_change", args=[obj.pk]), change).status_code == 403
    assert client.post(reverse(f"{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    bulk = client.post(
        reverse(f"{name}_changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302, 403)
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_ledger_entries_balances_and_claims_can_be_viewed_but_never_written(
    admin_client: Any,
) -> None:
    owner = player()
    m = mission(owner, rewards={"xp": 100, "dgt": "2"})
    mission_claim(mission_id=m.pk, user_id=owner.pk, now=NOW)
    entry, balance, claim = (
        LedgerEntry.objects.get(mission=m),
        Balance.objects.get(user=owner),
        Claim.objects.get(mission=m),
    )

    assert_read_only(admin_client, entry, {"xp": 1_000_000, "dgt": "999", "reason": "x"})
    assert_read_only(admin_client, balance, {"xp": 1_000_000, "dgt": "999"})
    assert_read_only(admin_client, claim, {"source": "auto_grant"})

    entry.refresh_from_db(), balance.refresh_from_db(), claim.refresh_from_db()
    assert (entry.xp, str(entry.dgt)) == (100, "2.00000000")
    assert (balance.xp, str(balance.dgt)) == (100, "2.00000000")
    assert claim.source == "claim"
