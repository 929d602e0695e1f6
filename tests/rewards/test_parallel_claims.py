"""Invariant 3: one payout per completed mission, under any number of parallel claims."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from rewards.errors import AlreadyClaimed
from rewards.models import Balance, Claim, LedgerEntry
from rewards.selectors import ledger_differences
from rewards.services import mission_claim

from .helpers import NOW, mission, player

CLAIMS = 50


@pytest.mark.django_db(transaction=True)
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
