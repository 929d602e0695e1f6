"""Invariant 3: one payout per completed mission, under any number of parallel claims."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from rewards.errors import AlreadyClaimed
from rewards.models import Balance, Claim, LedgerEntry
from rewards.selectors import ledger_differences
from rewards.services import mission_claim, rewards_auto_grant_unclaimed

from .helpers import NOW, mission, player

CLAIMS = 50


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_parallel_claims_pay_once_and_the_rest_conflict_cleanly() -> None:
    owner = player()
    m = mission(owner, rewards={"xp": 100, "dgt": "2.5"})
    start = threading.Barrier(CLAIMS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def claim() -> None:
        try:
            start.wait()
            try:
                mission_claim(mission_id=m.pk, user_id=owner.pk, now=NOW)
                outcome = "paid"
            except AlreadyClaimed:
                outcome = "already_claimed"
            except Exception as exc:  # anything else is a failure the assert will show
                outcome = f"{type(exc).__name__}: {exc}"
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=claim) for _ in range(CLAIMS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert Counter(outcomes) == {"paid": 1, "already_claimed": CLAIMS - 1}
    assert LedgerEntry.objects.filter(mission=m).count() == 1
    assert Claim.objects.filter(mission=m).count() == 1
    balance = Balance.objects.get(user=owner)
    assert (balance.xp, str(balance.dgt)) == (100, "2.50000000")
    assert ledger_differences() == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_claims_racing_the_auto_grant_job_still_pay_once() -> None:
    owner = player()
    m = mission(owner, rewards={"xp": 100, "dgt": "2.5"})
    assert m.period_end is not None
    late = m.period_end + timedelta(hours=48)
    start = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(kind: str) -> None:
        try:
            start.wait()
            try:
                if kind == "claim":
                    mission_claim(mission_id=m.pk, user_id=owner.pk, now=NOW)
                    outcome = "paid"
                else:
                    paid = rewards_auto_grant_unclaimed(now=late)
                    outcome = "paid" if paid else "nothing_due"
            except AlreadyClaimed:
                outcome = "already_claimed"
            except Exception as exc:  # anything else is a failure the assert will show
                outcome = f"{type(exc).__name__}: {exc}"
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(("claim", "auto")[i % 2],)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    counts = Counter(outcomes)
    assert counts["paid"] == 1
    assert counts["paid"] + counts["already_claimed"] + counts["nothing_due"] == 20
    assert LedgerEntry.objects.filter(mission=m).count() == 1
    assert Balance.objects.get(user=owner).xp == 100
    assert ledger_differences() == []
