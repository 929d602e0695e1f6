"""What `rewards_grant` answers, exactly: the result of a repeated key, the refusals' words,
what the reward_granted signal carries and what the Prometheus counter adds after the
commit. Values are worked out by hand."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from prometheus_client import REGISTRY

from missions.errors import ValidationFailed
from rewards.models import Badge, InventoryItem, Item, LedgerEntry, Title
from rewards.services import AlreadyGranted, rewards_grant
from rewards.signals import reward_granted
from tests.locks import backend_pid, wait_until_blocked_on_a_lock

from .helpers import mission, player

pytestmark = pytest.mark.django_db


def grant(user: Any, rewards: dict[str, Any], key: str = "k", **extra: Any) -> Any:
    return rewards_grant(user_id=user.pk, rewards=rewards, idempotency_key=key, reason="r", **extra)


def test_a_repeated_key_answers_with_the_first_grant_and_its_amounts() -> None:
    user = player()
    first = grant(user, {"xp": 120, "dgt": "1.5"})
    again = grant(user, {"xp": 999, "dgt": "9"})
    assert (again.entry.pk, again.created, again.xp, again.dgt) == (
        first.entry.pk,
        False,
        120,
        Decimal("1.5"),
    )
    assert (first.created, first.xp, first.dgt, first.level) == (True, 120, Decimal("1.5"), 2)


def test_items_count_one_unless_a_quantity_is_given_and_a_quantity_needs_to_be_one_or_more() -> (
    None
):
    Item.objects.create(key="gem", name="Gem")
    Item.objects.create(key="key", name="Key")
    user = player()
    result = grant(user, {"items": [{"key": "gem"}, {"key": "key", "qty": 1}]})
    assert result.items == [{"key": "gem", "qty": 1}, {"key": "key", "qty": 1}]
    assert dict(InventoryItem.objects.filter(user=user).values_list("item__key", "qty")) == {
        "gem": 1,
        "key": 1,
    }
    with pytest.raises(ValidationFailed) as refused:
        grant(user, {"items": [{"key": "gem", "qty": 0}]}, key="zero")
    assert str(refused.value) == "rewards must not be negative"
    assert refused.value.errors == {"rewards": "xp, dgt and qty must be ≥ 0"}


def test_the_refusals_say_which_key_and_which_mission(corrupt_ledger_allowed: None) -> None:
    """(The grants name a mission that is not claimed: the ledger check is off.)"""
    a, b = player(), player()
    grant(a, {"xp": 1}, key="shared")
    with pytest.raises(AlreadyGranted) as foreign:
        grant(b, {"xp": 1}, key="shared")
    assert str(foreign.value) == "idempotency key 'shared' belongs to another grant"

    paid = mission(a)
    grant(a, {"xp": 1}, key="first", mission_id=paid.pk)
    with pytest.raises(AlreadyGranted) as second:
        grant(a, {"xp": 1}, key="second", mission_id=paid.pk)
    assert (
        str(second.value) == f"a ledger entry already exists for key 'second' or mission {paid.pk}"
    )


def test_the_signal_carries_the_grant_and_the_counter_adds_it_after_the_commit(
    django_capture_on_commit_callbacks: Any, corrupt_ledger_allowed: None
) -> None:
    Item.objects.create(key="gem", name="Gem")
    Badge.objects.create(key="vip", name="VIP")
    Title.objects.create(key="hero", name="Hero")
    user = player()
    paid = mission(user)
    seen: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append({"sender": sender, **kwargs})

    def counted() -> dict[str, float]:
        return {
            kind: REGISTRY.get_sample_value(
                "mission_rewards_distributed_total", {"reward_type": kind}
            )
            or 0.0
            for kind in ("xp", "dgt", "items", "badges", "titles")
        }

    before = counted()
    reward_granted.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = grant(
                user,
                {
                    "xp": 300,
                    "dgt": "2.5",
                    "items": [{"key": "gem", "qty": 3}],
                    "badges": ["vip"],
                    "titles": ["hero"],
                },
                mission_id=paid.pk,
            )
    finally:
        reward_granted.disconnect(receiver)
    assert (result.level, result.badges, result.titles) == (3, ["vip"], ["hero"])
    assert result.entry == LedgerEntry.objects.get(idempotency_key="k")
    (sent,) = seen
    assert sent["sender"] is LedgerEntry
    assert (sent["result"], sent["user_id"], sent["reason"], sent["mission_id"]) == (
        result,
        user.pk,
        "r",
        paid.pk,
    )
    after = counted()
    assert {kind: after[kind] - before[kind] for kind in after} == {
        "xp": 300.0,
        "dgt": 2.5,
        "items": 3.0,
        "badges": 1.0,
        "titles": 1.0,
    }


def test_items_add_up_per_player_and_a_long_reason_is_cut_to_255_characters() -> None:
    Item.objects.create(key="gem", name="Gem")
    one, other = player(), player()
    grant(other, {"items": [{"key": "gem", "qty": 5}]}, key="other")
    grant(one, {"items": [{"key": "gem", "qty": 2}]}, key="a")
    rewards_grant(
        user_id=one.pk,
        rewards={"items": [{"key": "gem", "qty": 3}]},
        idempotency_key="b",
        reason="x" * 300,
    )
    held = dict(InventoryItem.objects.values_list("user_id", "qty"))
    assert held == {one.pk: 5, other.pk: 5}
    assert LedgerEntry.objects.get(idempotency_key="b").reason == "x" * 255


def test_a_missing_catalog_entry_is_created_with_a_warning_that_names_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = player()
    with caplog.at_level("WARNING", logger="rewards.services.ledger"):
        grant(user, {"items": [{"key": "new_gem"}]})
    assert "creating missing Item catalog entries: ['new_gem']" in caplog.messages
    assert Item.objects.filter(key="new_gem").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_key_another_players_grant_is_writing_is_refused_without_naming_a_mission() -> None:
    """The unique index, not the existence check, catches this one: the first grant has not
    committed when the second (another player, so another balance lock) looks for the key."""
    a, b = player(), player()
    held, release = threading.Event(), threading.Event()
    pid: list[int] = []
    outcome: dict[str, Any] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                grant(a, {"xp": 1}, key="shared")
                held.set()  # inserted, not committed
                release.wait(timeout=30)
        except Exception as exc:
            outcome["first"] = exc
        finally:
            held.set()
            connection.close()

    def second() -> None:
        try:
            pid.append(backend_pid())
            grant(b, {"xp": 1}, key="shared")
        except Exception as exc:
            outcome["second"] = exc
        finally:
            connection.close()

    holder = threading.Thread(target=first)
    holder.start()
    assert held.wait(timeout=30)
    racer = threading.Thread(target=second)
    racer.start()
    try:
        while not pid and racer.is_alive():
            time.sleep(0.01)
        wait_until_blocked_on_a_lock(pid[0])  # on the unique index of the key
    finally:
        release.set()
        holder.join()
        racer.join()

    assert "first" not in outcome, outcome
    assert isinstance(outcome["second"], AlreadyGranted)
    assert str(outcome["second"]) == "a ledger entry already exists for key 'shared'"
    assert list(LedgerEntry.objects.values_list("user_id", flat=True)) == [a.pk]
