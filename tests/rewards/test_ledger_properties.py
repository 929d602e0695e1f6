"""Hypothesis: whatever the sequence of completions and claims, the ledger stays sound."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from missions.errors import DomainError
from missions.models import ActiveMission
from missions.signals import mission_completed
from rewards.models import Balance, Claim, LedgerEntry
from rewards.selectors import ledger_differences
from rewards.services import mission_claim, rewards_auto_grant_unclaimed

from .helpers import NOW, mission, player

step = st.one_of(
    st.tuples(
        st.just("complete"),
        st.integers(0, 1),  # which player
        st.integers(0, 5),  # day offset
        st.integers(0, 500),  # xp
        st.decimals(min_value=0, max_value=1000, places=8, allow_nan=False),
        st.sampled_from(["daily", "weekly", "perpetual"]),
    ),
    st.tuples(st.just("claim"), st.integers(0, 1), st.integers(0, 30), st.integers(0, 6)),
    st.tuples(st.just("auto_grant"), st.integers(0, 8)),
)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_balances_always_equal_the_sum_of_history(steps: list[tuple]) -> None:
    players = [player(), player()]
    missions: list[ActiveMission] = []
    for s in steps:
        if s[0] == "complete":
            _, who, day, xp, dgt, period_type = s
            m = mission(
                players[who],
                at=NOW + timedelta(days=day),
                rewards={"xp": xp, "dgt": str(dgt)},
                period_type=period_type,
            )
            mission_completed.send(sender=None, mission=m)
            missions.append(m)
        elif s[0] == "claim" and missions:
            _, who, index, day = s
            m = missions[index % len(missions)]
            # Foreign, already claimed, incomplete or expired: each is a clean refusal.
            with suppress(DomainError):
                mission_claim(
                    mission_id=m.pk, user_id=players[who].pk, now=NOW + timedelta(days=day)
                )
        elif s[0] == "auto_grant":
            rewards_auto_grant_unclaimed(now=NOW + timedelta(days=s[1]))

    assert ledger_differences() == []
    for user in players:
        claims = Claim.objects.filter(user=user)
        balance = Balance.objects.filter(user=user).first()
        xp = sum(c.granted["xp"] for c in claims)
        dgt = sum((Decimal(c.granted["dgt"]) for c in claims), Decimal(0))
        assert (balance.xp if balance else 0, balance.dgt if balance else 0) == (xp, dgt)
        paid = set(claims.values_list("mission_id", flat=True))
        assert paid == set(
            ActiveMission.objects.filter(user=user, state="claimed").values_list("pk", flat=True)
        )
        assert LedgerEntry.objects.filter(user=user, mission__isnull=False).count() == len(paid)
        # A claim never pays less than the base, and never more than every bonus at once.
        for c in claims:
            assert (
                c.base_rewards["xp"] <= c.granted["xp"] <= c.base_rewards["xp"] * Decimal("5.625")
            )
