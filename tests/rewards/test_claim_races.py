"""Each guard of mission_claim on its own.

mission_claim has two guards against a second payout: the mission row lock (SELECT ... FOR
UPDATE before the state is read) and the refusal when the ledger already holds the
mission's grant (`grant.created` is False). Against two claims of the same mission either
guard alone is enough, so the fifty-claims test cannot tell whether each one works. These
tests put each guard where the other cannot help:

- the lock: a claim has paid but not committed when the auto-grant job reaches the same
  mission. Behind the lock the job waits, then sees "claimed" and goes on with the next
  mission; without it the job reads "completed", is refused by the ledger and stops.
- the ledger check: a completed mission whose grant is already in the ledger (the state
  and the ledger disagree) must be refused, not reported as paid a second time.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction

from missions.models import MissionState
from rewards.errors import AlreadyClaimed
from rewards.models import Balance, Claim, LedgerEntry
from rewards.selectors import ledger_differences
from rewards.services import mission_claim, rewards_auto_grant_unclaimed
from rewards.services.ledger import rewards_grant
from tests.locks import backend_pid, wait_until_blocked_on_a_lock

from .helpers import NOW, mission, player


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_auto_grant_job_waits_for_a_claim_in_flight_and_goes_on_with_the_next_mission() -> None:
    owner, other = player(), player()
    claimed = mission(owner, rewards={"xp": 100})
    due = mission(other, rewards={"xp": 40})
    assert claimed.pk < due.pk  # the job takes missions in id order
    assert claimed.period_end is not None
    late = claimed.period_end + timedelta(hours=48)

    paid, release = threading.Event(), threading.Event()
    job_pid: list[int] = []
    outcome: dict[str, Any] = {}

    def claim_and_hold() -> None:
        try:
            with transaction.atomic():
                mission_claim(mission_id=claimed.pk, user_id=owner.pk, now=NOW)
                paid.set()  # paid, locks held, not committed yet
                release.wait(timeout=30)
        except Exception as exc:
            outcome["claim"] = exc
        finally:
            paid.set()
            connection.close()

    def job() -> None:
        try:
            job_pid.append(backend_pid())
            outcome["job"] = rewards_auto_grant_unclaimed(now=late)
        except Exception as exc:
            outcome["job"] = exc
        finally:
            connection.close()

    holder = threading.Thread(target=claim_and_hold)
    holder.start()
    assert paid.wait(timeout=30)
    runner = threading.Thread(target=job)
    runner.start()
    try:
        while not job_pid and runner.is_alive():
            time.sleep(0.01)
        wait_until_blocked_on_a_lock(job_pid[0])
    finally:
        release.set()
        holder.join()
        runner.join()

    assert "claim" not in outcome, outcome
    assert outcome["job"] == 1  # the next mission, not an AlreadyClaimed from the first
    assert LedgerEntry.objects.filter(mission=claimed).count() == 1
    assert Claim.objects.get(mission=claimed).source == "claim"
    assert Claim.objects.get(mission=due).source == "auto_grant"
    assert Balance.objects.get(user=owner).xp == 100
    assert Balance.objects.get(user=other).xp == 40


@pytest.mark.django_db
def test_a_completed_mission_whose_grant_is_already_in_the_ledger_is_refused(
    corrupt_ledger_allowed: None,
) -> None:
    owner = player()
    m = mission(owner, rewards={"xp": 100})
    rewards_grant(
        user_id=owner.pk,
        rewards={"xp": 100},
        idempotency_key=f"mission:{m.pk}",
        reason="paid elsewhere",
        mission_id=m.pk,
    )

    with pytest.raises(AlreadyClaimed, match="already paid"):
        mission_claim(mission_id=m.pk, user_id=owner.pk, now=NOW)

    m.refresh_from_db()
    assert m.state == MissionState.COMPLETED
    assert not Claim.objects.filter(mission=m).exists()
    assert Balance.objects.get(user=owner).xp == 100  # the first grant only
    # ... and check_ledger still shows the disagreement instead of a claim hiding it.
    assert ledger_differences() == [f"mission {m.pk}: not claimed but has 1 grants, 0 claims"]
