"""GET /api/v1/history and /history/: every ledger entry (claims, automatic payouts,
achievements, competition prizes, streak rewards, grants) with its reason; the entries sum to
the balance; filterable by kind; paginated."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rewards.models import Badge, Balance, MetaAchievement
from rewards.services import mission_claim, rewards_auto_grant_unclaimed, rewards_grant
from tests.api.conftest import token_client

from .helpers import mission, player

pytestmark = pytest.mark.django_db


def _every_kind(owner: Any) -> None:
    now = timezone.now()
    MetaAchievement.objects.create(
        key="first", rule="missions_completed", threshold=1,
        badge=Badge.objects.create(key="first", name="First"), rewards={"xp": 7, "dgt": "0.5"},
    )  # fmt: skip
    claimed = mission(owner, at=now, rewards={"xp": 100, "dgt": "2.25"})
    mission_claim(mission_id=claimed.pk, user_id=owner.pk, now=now)  # + the achievement
    mission(owner, at=now - timedelta(days=5), rewards={"xp": 30})
    rewards_auto_grant_unclaimed(now=now)  # the old one is past its grace time
    rewards_grant(
        user_id=owner.pk, rewards={"xp": 500}, idempotency_key="competitive:race:1", reason="#1"
    )
    rewards_grant(
        user_id=owner.pk, rewards={"dgt": "3"}, idempotency_key="streak:7:u", reason="7 days"
    )
    rewards_grant(
        user_id=owner.pk, rewards={"xp": 20}, idempotency_key="admin:gift:1", reason="Sorry!"
    )


def _all_rows(api: Any, query: str = "") -> list[dict[str, Any]]:
    rows, url = [], f"/api/v1/history?page_size=2{query}"
    while url:
        page = api.get(url).json()
        rows += page["results"]
        url = page["next"]
    return rows


def test_history_lists_every_ledger_entry_and_sums_to_the_balance() -> None:
    owner = player("owner")
    _every_kind(owner)
    api = token_client(owner)
    rows = _all_rows(api)
    assert sorted(r["kind"] for r in rows) == sorted(
        ["claim", "achievement", "auto_grant", "competitive", "streak", "grant"]
    )
    assert all(r["reason"] for r in rows)
    balance = Balance.objects.get(user=owner)
    assert sum(r["xp"] for r in rows) == balance.xp
    assert sum(Decimal(r["dgt"]) for r in rows) == balance.dgt
    me = api.get("/api/v1/me").json()
    assert (sum(r["xp"] for r in rows), Decimal(me["dgt"])) == (me["xp"], balance.dgt)
    claim = next(r for r in rows if r["kind"] == "claim")
    assert claim["base_rewards"]["xp"] == 100 and claim["granted"]["xp"] == claim["xp"]


def test_history_filters_by_kind_and_refuses_an_unknown_kind() -> None:
    owner = player("owner")
    _every_kind(owner)
    api = token_client(owner)
    assert [r["kind"] for r in _all_rows(api, "&kind=streak,grant")] == ["grant", "streak"]
    bad = api.get("/api/v1/history?kind=bribe")
    assert bad.status_code == 400 and "kind" in bad.json()["errors"]


def test_the_history_page_shows_every_entry_with_its_reason_and_filters(client: Client) -> None:
    owner = player("owner")
    _every_kind(owner)
    client.force_login(owner)
    body = client.get("/history/").content.decode()
    assert body.count('class="entry kind-') == 6
    assert "Sorry!" in body and "Competition prize" in body and "Paid automatically" in body
    only = client.get("/history/?kind=achievement").content.decode()
    assert only.count('class="entry kind-') == 1 and 'data-kind="achievement"' in only
