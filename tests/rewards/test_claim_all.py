"""POST /api/v1/missions/claim-all: one request claims every completed mission, each exactly
once, also when several claim-all requests (and single claims) run in parallel."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from rewards.models import Balance, Claim, LedgerEntry
from tests.api.conftest import token_client

from .helpers import mission, player

PARALLEL = 8  # requests at once; each thread holds one database connection


def _completed(owner: Any, n: int, **kwargs: Any) -> list[Any]:
    now = timezone.now()
    return [
        mission(owner, at=now, rewards={"xp": 10 * (i + 1), "dgt": "1.5"}, **kwargs)
        for i in range(n)
    ]


@pytest.mark.django_db
def test_claim_all_claims_every_completed_mission_and_sums_what_it_granted() -> None:
    owner = player("owner")
    missions = _completed(owner, 3)
    mission(owner, state="active", at=timezone.now())  # not complete: left alone
    body = token_client(owner).post("/api/v1/missions/claim-all").json()
    assert body["count"] == 3
    assert sorted(c["mission_id"] for c in body["claimed"]) == sorted(m.pk for m in missions)
    assert body["total"]["xp"] == sum(c["granted"]["xp"] for c in body["claimed"])
    assert body["balances"] == {"xp": body["total"]["xp"], "dgt": body["total"]["dgt"]}
    assert Claim.objects.filter(user=owner).count() == 3


@pytest.mark.django_db
def test_claim_all_with_nothing_to_claim_is_a_quiet_zero() -> None:
    owner = player("owner")
    body = token_client(owner).post("/api/v1/missions/claim-all").json()
    assert (body["count"], body["claimed"], body["total"]["xp"]) == (0, [], 0)


@pytest.mark.django_db
def test_claim_all_never_touches_another_players_missions() -> None:
    owner, other = player("owner"), player("other")
    theirs = _completed(other, 2)
    assert token_client(owner).post("/api/v1/missions/claim-all").json()["count"] == 0
    assert not Claim.objects.filter(mission__in=theirs).exists()


@pytest.mark.django_db
def test_claim_all_needs_a_login() -> None:
    assert APIClient().post("/api/v1/missions/claim-all").status_code == 401


@pytest.mark.django_db
def test_each_claimed_bonus_carries_an_explanation_a_player_can_read() -> None:
    owner = player("owner")
    # Both monthly missions completed: a perfect month (×1.25 XP).
    mission(owner, at=timezone.now(), period_type="monthly")
    m = mission(owner, at=timezone.now(), period_type="monthly", rewards={"xp": 120})
    body = token_client(owner).post(f"/api/v1/missions/{m.pk}/claim").json()
    assert body["granted"]["xp"] == 150 and body["base_rewards"]["xp"] == 120
    assert [b["explanation"] for b in body["bonuses"]] == [
        "perfect: every monthly mission completed, ×1.25 XP"
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_claim_alls_and_single_claims_pay_each_mission_exactly_once() -> None:
    owner = player("owner")
    missions = _completed(owner, 6)
    start = threading.Barrier(PARALLEL)
    claimed: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            client = token_client(owner)
            start.wait()
            if i % 4 == 3:  # some single claims race the claim-alls
                response = client.post(f"/api/v1/missions/{missions[i % 6].pk}/claim")
                ids = [missions[i % 6].pk] if response.status_code == 200 else []
                ok = response.status_code in (200, 409)
            else:
                response = client.post("/api/v1/missions/claim-all")
                ids = [c["mission_id"] for c in response.json()["claimed"]]
                ok = response.status_code == 200
            with lock:
                claimed.extend(ids)
                if not ok:
                    failures.append(f"{response.status_code}: {response.content[:200]!r}")
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    # Every mission paid by exactly one of the requests, and once in the ledger.
    assert Counter(claimed) == {m.pk: 1 for m in missions}
    assert LedgerEntry.objects.filter(mission__in=missions).count() == 6
    assert Claim.objects.filter(mission__in=missions).count() == 6
    balance = Balance.objects.get(user=owner)
    # All six daily missions were completed: each payout has the perfect bonus (×1.25 XP).
    assert balance.xp == sum(int(10 * (i + 1) * 1.25) for i in range(6))
