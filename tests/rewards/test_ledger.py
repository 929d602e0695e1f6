from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction
from django.test.utils import override_settings

from missions.errors import ValidationFailed
from missions.models import PlayerProfile
from rewards.levels import level_for_xp, next_level_xp, xp_for_level
from rewards.models import Balance, LedgerEntry
from rewards.selectors import ledger_differences
from rewards.services import AlreadyGranted, mission_claim, rewards_grant

from .helpers import NOW, mission, player

pytestmark = pytest.mark.django_db


def test_a_grant_is_applied_once_per_idempotency_key() -> None:
    user = player()
    first = rewards_grant(
        user_id=user.pk, rewards={"xp": 5, "dgt": "1.1"}, idempotency_key="k1", reason="test"
    )
    again = rewards_grant(
        user_id=user.pk, rewards={"xp": 5, "dgt": "1.1"}, idempotency_key="k1", reason="test"
    )
    assert first.created and not again.created and again.entry.pk == first.entry.pk
    balance = Balance.objects.get(user=user)
    assert (balance.xp, balance.dgt) == (5, Decimal("1.1"))
    assert LedgerEntry.objects.count() == 1


def test_a_key_of_another_user_is_refused() -> None:
    a, b = player(), player()
    rewards_grant(user_id=a.pk, rewards={"xp": 1}, idempotency_key="shared", reason="test")
    with pytest.raises(AlreadyGranted):
        rewards_grant(user_id=b.pk, rewards={"xp": 1}, idempotency_key="shared", reason="test")
    assert not Balance.objects.filter(user=b, xp__gt=0).exists()


@pytest.mark.parametrize(
    "rewards", [{"xp": -1}, {"dgt": "-0.5"}, {"items": [{"key": "x", "qty": 0}]}]
)
def test_negative_rewards_are_refused(rewards: dict) -> None:
    user = player()
    with pytest.raises(ValidationFailed):
        rewards_grant(user_id=user.pk, rewards=rewards, idempotency_key="neg", reason="test")
    assert not LedgerEntry.objects.exists()


def test_floats_never_enter_the_ledger() -> None:
    user = player()
    with pytest.raises(TypeError):
        rewards_grant(user_id=user.pk, rewards={"dgt": 0.1}, idempotency_key="f", reason="test")


def test_the_ledger_refuses_updates_and_deletes() -> None:
    user = player()
    entry = rewards_grant(user_id=user.pk, rewards={"xp": 5}, idempotency_key="k", reason="t").entry
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(xp=500)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.get(pk=entry.pk).xp == 5


def test_the_level_curve_is_triangular_in_the_step() -> None:
    assert [xp_for_level(n) for n in (1, 2, 3, 4, 5)] == [0, 100, 300, 600, 1000]
    assert [level_for_xp(x) for x in (0, 99, 100, 299, 300, 1000)] == [1, 1, 2, 2, 3, 5]
    assert next_level_xp(1) == 100


@override_settings(REWARDS_LEVEL_XP_STEP=10, REWARDS_MAX_LEVEL=3)
def test_the_level_curve_is_configurable_and_capped() -> None:
    assert level_for_xp(10) == 2 and level_for_xp(10**9) == 3
    assert next_level_xp(3) is None


def test_grants_raise_the_level_but_never_lower_it() -> None:
    user, veteran = player(), player(level=20)
    rewards_grant(user_id=user.pk, rewards={"xp": 650}, idempotency_key="a", reason="t")
    rewards_grant(user_id=veteran.pk, rewards={"xp": 650}, idempotency_key="b", reason="t")
    assert PlayerProfile.objects.get(user=user).level == 4
    assert PlayerProfile.objects.get(user=veteran).level == 20


def test_check_ledger_reports_a_balance_that_drifted_and_exits_non_zero(
    corrupt_ledger_allowed: None,
) -> None:
    user = player()
    rewards_grant(user_id=user.pk, rewards={"xp": 5, "dgt": "2"}, idempotency_key="k", reason="t")
    Balance.objects.filter(user=user).update(xp=6)
    assert ledger_differences() == [
        f"user {user.pk}: balance xp=6 dgt=2.00000000 but entries sum to xp=5 dgt=2.00000000"
    ]
    with pytest.raises(CommandError, match="1 difference"):
        call_command("check_ledger")


def test_check_ledger_reports_a_claimed_mission_without_a_grant(
    corrupt_ledger_allowed: None,
) -> None:
    user = player()
    m = mission(user, state="claimed")
    assert ledger_differences() == [f"mission {m.pk}: claimed with 0 grants and 0 claim rows"]


def test_check_ledger_reports_a_grant_for_a_mission_that_is_not_claimed(
    corrupt_ledger_allowed: None,
) -> None:
    user = player()
    m = mission(user)
    mission_claim(mission_id=m.pk, user_id=user.pk, now=NOW)
    type(m).objects.filter(pk=m.pk).update(state="completed")
    assert ledger_differences() == [f"mission {m.pk}: not claimed but has 1 grants, 1 claims"]


@pytest.mark.parametrize(
    ("key", "reason"), [("", "why"), ("k", ""), ("", "")], ids=["no_key", "no_reason", "neither"]
)
def test_a_grant_needs_a_key_and_a_reason(key: str, reason: str) -> None:
    user = player()
    with pytest.raises(ValidationFailed, match="^idempotency_key and reason are required$") as e:
        rewards_grant(user_id=user.pk, rewards={"xp": 1}, idempotency_key=key, reason=reason)
    assert e.value.errors == {"idempotency_key": "is required", "reason": "is required"}
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("value", "dgt"),
    [
        (None, "0.00000000"),
        ("", "0.00000000"),
        (0, "0.00000000"),
        ("0.000000019", "0.00000001"),  # rounded down, never up or to even
        ("2.999999999", "2.99999999"),
        (Decimal("10.5"), "10.50000000"),
        (7, "7.00000000"),
    ],
)
def test_dgt_amounts_have_8_places_rounded_down(value: object, dgt: str) -> None:
    from rewards.services.ledger import dgt_str

    assert dgt_str(value) == dgt


def test_a_float_dgt_amount_is_a_type_error_that_says_so() -> None:
    from rewards.services.ledger import to_dgt

    with pytest.raises(TypeError, match="^DGT amounts are Decimal or str, never float$"):
        to_dgt(1.5)


def test_badges_and_titles_are_new_only_for_their_own_player() -> None:
    a, b = player(), player()
    first = rewards_grant(
        user_id=a.pk,
        rewards={"badges": ["pioneer"], "titles": ["scout"]},
        idempotency_key="a1",
        reason="test",
    )
    # Another player holding them does not make them old news for this one.
    other = rewards_grant(
        user_id=b.pk,
        rewards={"badges": ["pioneer", "pioneer"], "titles": ["scout"]},
        idempotency_key="b1",
        reason="test",
    )
    again = rewards_grant(
        user_id=a.pk,
        rewards={"badges": ["pioneer", "helper"], "titles": ["scout"]},
        idempotency_key="a2",
        reason="test",
    )
    assert (first.badges, first.titles) == (["pioneer"], ["scout"])
    assert (other.badges, other.titles) == (["pioneer"], ["scout"])
    assert (again.badges, again.titles) == (["helper"], [])
