"""Hypothesis: whatever the sequence of completions and claims, the ledger stays sound."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from missions.errors import DomainError, NotFound
from missions.models import ActiveMission
from missions.signals import mission_completed
from rewards.errors import AlreadyClaimed, ClaimExpired
from rewards.models import Balance, Claim, LedgerEntry
from rewards.selectors import ledger_differences
from rewards.services import mission_claim, rewards_auto_grant_unclaimed

from .helpers import NOW, mission, player

GRACE = timedelta(hours=24)  # MISSIONS_CLAIM_GRACE_HOURS
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


# Hypothesis runs every example in one test transaction: each example lives 1000 days
# before the previous one, so an auto-grant never reaches an earlier example's missions.
_examples = itertools.count()


def expected_refusal(
    m: ActiveMission, claimer: int, now: datetime, paid: set[int]
) -> type[DomainError] | None:
    """What mission_claim must answer, from the rules of SPEC.md, not from the code."""
    if m.user_id != claimer:
        return NotFound
    if m.pk in paid:
        return AlreadyClaimed
    if m.period_end is not None and now >= m.period_end + GRACE:
        return ClaimExpired
    return None


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_balances_always_equal_the_sum_of_history(steps: list[tuple]) -> None:
    epoch = NOW - timedelta(days=1000 * next(_examples))
    players = [player(), player()]
    missions: list[ActiveMission] = []
    paid: set[int] = set()
    for s in steps:
        if s[0] == "complete":
            _, who, day, xp, dgt, period_type = s
            m = mission(
                players[who],
                at=epoch + timedelta(days=day),
                rewards={"xp": xp, "dgt": str(dgt)},
                period_type=period_type,
            )
            mission_completed.send(sender=None, mission=m)
            missions.append(m)
        elif s[0] == "claim" and missions:
            _, who, index, day = s
            m = missions[index % len(missions)]
            now = epoch + timedelta(days=day)
            refusal = expected_refusal(m, players[who].pk, now, paid)
            if refusal is None:
                mission_claim(mission_id=m.pk, user_id=players[who].pk, now=now)
                paid.add(m.pk)
            else:
                with pytest.raises(refusal):
                    mission_claim(mission_id=m.pk, user_id=players[who].pk, now=now)
        elif s[0] == "auto_grant":
            now = epoch + timedelta(days=s[1])
            due = {
                m.pk
                for m in missions
                if m.pk not in paid and m.period_end is not None and now >= m.period_end + GRACE
            }
            assert rewards_auto_grant_unclaimed(now=now) == len(due)
            paid |= due

    assert ledger_differences() == []
    for user in players:
        claims = Claim.objects.filter(user=user)
        balance = Balance.objects.filter(user=user).first()
        xp = sum(c.granted["xp"] for c in claims)
        dgt = sum((Decimal(c.granted["dgt"]) for c in claims), Decimal(0))
        assert (balance.xp if balance else 0, balance.dgt if balance else 0) == (xp, dgt)
        theirs = {m.pk for m in missions if m.user_id == user.pk} & paid
        assert set(claims.values_list("mission_id", flat=True)) == theirs
        claimed = ActiveMission.objects.filter(user=user, state="claimed")
        assert set(claimed.values_list("pk", flat=True)) == theirs
        assert LedgerEntry.objects.filter(user=user, mission__isnull=False).count() == len(theirs)
        # A claim never pays less than the base, and never more than every bonus at once.
        for c in claims:
            assert (
                c.base_rewards["xp"] <= c.granted["xp"] <= c.base_rewards["xp"] * Decimal("5.625")
            )
