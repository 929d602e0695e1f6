"""What a claim answers and records, exactly: claim-all's order and sums, the Claim row and
ledger entry a payout leaves, the refusals' words and the claims counter's labels. Values are
worked out by hand."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from missions.errors import NotFound
from missions.models import ActiveMission
from rewards.errors import AlreadyClaimed, ClaimExpired, NotComplete
from rewards.models import Claim, Item, LedgerEntry
from rewards.services import mission_auto_grant, mission_claim, missions_claim_all
from tests.factories import UserFactory

from .helpers import NOW, mission, player

pytestmark = pytest.mark.django_db

REFUSALS = ("not_found", "not_complete", "claim_expired", "already_claimed")


def test_claim_all_pays_oldest_completion_first_and_sums_exactly_what_it_granted() -> None:
    Item.objects.create(key="gem", name="Gem")
    Item.objects.create(key="key", name="Key")
    owner = player()
    mission(owner, state="active")  # the day is not perfect: no bonus, base rewards only
    expired = mission(owner, at=NOW - timedelta(days=5), rewards={"xp": 1000})
    # Created out of completion order: claim-all goes by completed_at, not by id.
    second = mission(
        owner,
        at=NOW - timedelta(hours=1),
        rewards={"dgt": "0.25", "items": [{"key": "gem"}, {"key": "key", "qty": 3}]},
    )
    third = mission(owner, at=NOW, rewards={"xp": 7, "titles": ["t2"], "badges": ["b2"]})
    first = mission(
        owner,
        at=NOW - timedelta(hours=2),
        rewards={
            "xp": 100,
            "dgt": "1.5",
            "items": [{"key": "gem", "qty": 2}],
            "badges": ["b1"],
            "titles": ["t1"],
        },
    )
    perpetual = mission(
        owner, at=NOW - timedelta(days=400), period_type="perpetual", rewards={"xp": 3}
    )
    refusals = {code: claims_counted("claim", code) for code in REFUSALS}

    result = missions_claim_all(user_id=owner.pk, now=NOW)

    assert [c.mission_id for c in result.claimed] == [perpetual.pk, first.pk, second.pk, third.pk]
    assert result.total == {
        "xp": 110,
        "dgt": "1.75000000",
        # a missing qty counts one; quantities of one item add up, in order of first sight
        "items": [{"key": "gem", "qty": 3}, {"key": "key", "qty": 3}],
        "badges": ["b1", "b2"],
        "titles": ["t1", "t2"],
    }
    assert result.balances == {"xp": 110, "dgt": "1.75000000"}
    assert (result.level, result.next_level_xp) == (2, 300)
    # The active and the expired missions were not even tried: no refusal was counted.
    assert {code: claims_counted("claim", code) for code in REFUSALS} == refusals
    assert ActiveMission.objects.get(pk=expired.pk).state == "completed"


def test_claim_all_takes_missions_completed_at_the_same_instant_in_id_order() -> None:
    owner = player()
    mission(owner, state="active")
    one = mission(owner, at=NOW - timedelta(hours=1), rewards={"xp": 1})
    two = mission(owner, at=NOW - timedelta(hours=1), rewards={"xp": 2})
    # New row versions of the older mission (an indexed column changed, then put back): it is
    # now stored, and indexed, after the newer one, so only the ordering by id puts it first.
    for at in (NOW - timedelta(hours=3), NOW - timedelta(hours=1)):
        ActiveMission.objects.filter(pk=one.pk).update(completed_at=at)
    result = missions_claim_all(user_id=owner.pk, now=NOW)
    assert [c.mission_id for c in result.claimed] == [one.pk, two.pk]


def test_claim_all_for_a_player_without_wallet_or_profile_answers_zero_at_level_one() -> None:
    nobody = UserFactory()
    result = missions_claim_all(user_id=nobody.pk, now=NOW)
    assert (result.claimed, result.balances, result.level, result.next_level_xp) == (
        [],
        {"xp": 0, "dgt": "0.00000000"},
        1,
        100,
    )
    assert result.total == {"xp": 0, "dgt": "0.00000000", "items": [], "badges": [], "titles": []}


def claims_counted(source: str, result: str) -> float:
    value = REGISTRY.get_sample_value("mission_claims_total", {"source": source, "result": result})
    return value or 0.0


def test_a_claim_leaves_its_ledger_entry_its_claim_row_and_one_count_after_the_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    owner = player()
    m = mission(owner, key="reader", rewards={"xp": 40, "dgt": "2", "badges": ["b"]})
    before = claims_counted("claim", "granted")

    with django_capture_on_commit_callbacks() as callbacks:
        result = mission_claim(mission_id=m.pk, user_id=owner.pk, now=NOW)
        assert claims_counted("claim", "granted") == before  # not before the commit
    for callback in callbacks:
        callback()

    assert claims_counted("claim", "granted") == before + 1
    base = {"xp": 40, "dgt": "2.00000000", "items": [], "badges": ["b"], "titles": []}
    assert result.as_dict() == {
        "mission_id": m.pk,
        "source": "claim",
        "base_rewards": base,
        "granted": base,
        "bonuses": [],
        "balances": {"xp": 40, "dgt": "2.00000000"},
        "level": 1,
        "next_level_xp": 100,
        "meta_badges": [],
    }
    entry = LedgerEntry.objects.get()
    assert (entry.user_id, entry.mission_id, entry.idempotency_key, entry.reason) == (
        owner.pk,
        m.pk,
        f"mission:{m.pk}",
        "claim of mission reader",
    )
    row = Claim.objects.get()
    assert (
        row.mission_id,
        row.user_id,
        row.ledger_entry_id,
        row.source,
        row.base_rewards,
        row.bonuses,
        row.granted,
        row.meta_badges,
        row.created_at,
    ) == (m.pk, owner.pk, entry.pk, "claim", base, [], base, [], NOW)
    m.refresh_from_db()
    assert (m.state, m.claimed_at) == ("claimed", NOW)


def test_an_auto_grant_is_recorded_as_such(django_capture_on_commit_callbacks: Any) -> None:
    owner = player()
    m = mission(owner, key="reader", rewards={"xp": 5})
    assert m.period_end is not None
    deadline = m.period_end + timedelta(hours=24)
    before = claims_counted("auto_grant", "granted")
    with django_capture_on_commit_callbacks(execute=True):
        result = mission_auto_grant(mission_id=m.pk, now=deadline)
    assert result is not None
    assert (result.source, result.mission_id, result.granted["xp"]) == ("auto_grant", m.pk, 5)
    assert claims_counted("auto_grant", "granted") == before + 1
    assert LedgerEntry.objects.get().reason == "auto_grant of mission reader"
    row = Claim.objects.get()
    assert (row.source, row.created_at) == ("auto_grant", deadline)


def test_each_refusal_says_why_in_words_and_is_counted_under_its_code() -> None:
    owner, outsider = player(), player()
    active = mission(owner, state="active")
    done = mission(owner)
    assert done.period_end is not None
    late = done.period_end + timedelta(hours=24)

    def refused(error: type[Exception], mission_id: int, user_id: int, now: Any = NOW) -> str:
        with pytest.raises(error) as caught:
            mission_claim(mission_id=mission_id, user_id=user_id, now=now)
        return str(caught.value)

    codes = ("not_found", "not_complete", "claim_expired", "already_claimed", "granted")
    before = {code: claims_counted("claim", code) for code in codes}
    assert refused(NotFound, done.pk, outsider.pk) == f"mission {done.pk} not found"
    assert refused(NotComplete, active.pk, owner.pk) == (
        f"mission {active.pk} is not complete (state active)"
    )
    assert refused(ClaimExpired, done.pk, owner.pk, late).startswith(
        f"mission {done.pk} could be claimed until "
    )
    mission_claim(mission_id=done.pk, user_id=owner.pk, now=NOW)
    assert refused(AlreadyClaimed, done.pk, owner.pk) == f"mission {done.pk} is already claimed"
    after = {code: claims_counted("claim", code) for code in codes}
    # (the granted count comes with the commit, which this test's transaction never reaches)
    assert {code: after[code] - before[code] for code in codes} == {
        "not_found": 1,
        "not_complete": 1,
        "claim_expired": 1,
        "already_claimed": 1,
        "granted": 0,
    }
    assert ActiveMission.objects.get(pk=active.pk).state == "active"
