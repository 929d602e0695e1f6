"""Claiming a completed mission: one payout, whatever the concurrency.

The mission row is locked (SELECT ... FOR UPDATE) before its state is read, so parallel
claims queue behind the first; when they get the lock the state is "claimed" and they fail
with AlreadyClaimed. The Claim row (one per mission) and the ledger's one-grant-per-mission
constraint back this up in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from missions import metrics
from missions.cache import player_cache_bump
from missions.errors import DomainError, NotFound
from missions.models import ActiveMission, MissionState, PlayerProfile

from ..errors import AlreadyClaimed, ClaimExpired, NotComplete
from ..levels import next_level_xp
from ..models import Balance, Claim, ClaimSource
from .bonuses import apply_bonuses, mission_bonuses
from .ledger import dgt_str, rewards_grant, to_dgt
from .meta import meta_achievements_check


@dataclass
class ClaimResult:
    mission_id: int
    source: str
    base_rewards: dict[str, Any]
    granted: dict[str, Any]
    bonuses: list[dict[str, Any]]
    balances: dict[str, Any]
    level: int
    next_level_xp: int | None
    meta_badges: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mission_id": self.mission_id,
            "source": self.source,
            "base_rewards": self.base_rewards,
            "granted": self.granted,
            "bonuses": self.bonuses,
            "balances": self.balances,
            "level": self.level,
            "next_level_xp": self.next_level_xp,
            "meta_badges": self.meta_badges,
        }


def claim_deadline(mission: ActiveMission) -> datetime | None:
    """Until when a completed mission can be claimed (None: perpetual, always)."""
    if mission.period_end is None:
        return None
    return mission.period_end + timedelta(hours=int(settings.MISSIONS_CLAIM_GRACE_HOURS))


def base_rewards(rewards: dict[str, Any] | None) -> dict[str, Any]:
    rewards = rewards or {}
    return {
        "xp": int(rewards.get("xp") or 0),
        "dgt": dgt_str(rewards.get("dgt")),
        "items": list(rewards.get("items") or []),
        "badges": list(rewards.get("badges") or []),
        "titles": list(rewards.get("titles") or []),
    }


def _pay(mission: ActiveMission, *, now: datetime, source: str) -> ClaimResult:
    """Grant a locked, completed mission's rewards and mark it claimed (caller's transaction)."""
    base = base_rewards(mission.template.rewards)
    bonuses = mission_bonuses(mission, now)
    granted = apply_bonuses(base, bonuses)
    grant = rewards_grant(
        user_id=mission.user_id,
        rewards=granted,
        idempotency_key=f"mission:{mission.pk}",
        reason=f"{source} of mission {mission.template.key}",
        mission_id=mission.pk,
    )
    if not grant.created:
        # The ledger already paid this mission though its state says otherwise: refuse to
        # pay twice; check_ledger reports the mismatch.
        raise AlreadyClaimed(f"mission {mission.pk} was already paid")
    mission.state = MissionState.CLAIMED
    mission.claimed_at = now
    mission.save(update_fields=["state", "claimed_at"])
    player_cache_bump(user_ids=[mission.user_id])
    meta = meta_achievements_check(user_id=mission.user_id)
    bonus_dicts = [b.as_dict() for b in bonuses]
    transaction.on_commit(lambda: metrics.claim_recorded(source=str(source), result="granted"))
    Claim.objects.create(
        mission=mission,
        user_id=mission.user_id,
        ledger_entry=grant.entry,
        source=source,
        base_rewards=base,
        bonuses=bonus_dicts,
        granted=granted,
        meta_badges=meta,
        created_at=now,
    )
    balance = Balance.objects.get(user_id=mission.user_id)
    # Re-read: meta-achievement rewards may have raised the level after the mission grant.
    level = (
        PlayerProfile.objects.filter(user_id=mission.user_id)
        .values_list("level", flat=True)
        .first()
    ) or grant.level
    return ClaimResult(
        mission_id=mission.pk,
        source=str(source),
        base_rewards=base,
        granted=granted,
        bonuses=bonus_dicts,
        balances={"xp": balance.xp, "dgt": dgt_str(balance.dgt)},
        level=level,
        next_level_xp=next_level_xp(level),
        meta_badges=meta,
    )


def _locked_mission(mission_id: int, user_id: int | None) -> ActiveMission | None:
    qs = ActiveMission.objects.select_for_update(of=("self",)).select_related("template")
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    return qs.filter(pk=mission_id).first()


def mission_claim(*, mission_id: int, user_id: int, now: datetime | None = None) -> ClaimResult:
    """Claim the player's completed mission: grant its rewards and bonuses exactly once.

    NotFound if the mission is not the caller's (never revealing other players'), and
    Conflict subclasses: AlreadyClaimed, NotComplete, ClaimExpired (past the grace time).
    """
    now = now or timezone.now()
    try:
        return _claim(mission_id=mission_id, user_id=user_id, now=now)
    except DomainError as exc:
        metrics.claim_recorded(source=str(ClaimSource.CLAIM), result=exc.code)
        raise


def _claim(*, mission_id: int, user_id: int, now: datetime) -> ClaimResult:
    with transaction.atomic():
        mission = _locked_mission(mission_id, user_id)
        if mission is None:
            raise NotFound(f"mission {mission_id} not found")
        if mission.state == MissionState.CLAIMED:
            raise AlreadyClaimed(f"mission {mission_id} is already claimed")
        if mission.state != MissionState.COMPLETED:
            raise NotComplete(f"mission {mission_id} is not complete (state {mission.state})")
        deadline = claim_deadline(mission)
        if deadline is not None and now >= deadline:
            raise ClaimExpired(
                f"mission {mission_id} could be claimed until {deadline.isoformat()}"
                + (
                    "; its rewards are granted automatically"
                    if settings.MISSIONS_AUTO_GRANT_UNCLAIMED
                    else ""
                )
            )
        return _pay(mission, now=now, source=ClaimSource.CLAIM)


@dataclass
class ClaimAllResult:
    claimed: list[ClaimResult]
    total: dict[str, Any]
    balances: dict[str, Any]
    level: int
    next_level_xp: int | None


def _sum_rewards(results: list[ClaimResult]) -> dict[str, Any]:
    xp = sum(int(r.granted.get("xp") or 0) for r in results)
    dgt = sum((to_dgt(r.granted.get("dgt")) for r in results), to_dgt(0))
    qty: dict[str, int] = {}
    for r in results:
        for item in r.granted.get("items") or []:
            qty[item["key"]] = qty.get(item["key"], 0) + int(item.get("qty", 1))
    return {
        "xp": xp,
        "dgt": dgt_str(dgt),
        "items": [{"key": k, "qty": n} for k, n in qty.items()],
        "badges": [b for r in results for b in r.granted.get("badges") or []],
        "titles": [t for r in results for t in r.granted.get("titles") or []],
    }


def missions_claim_all(*, user_id: int, now: datetime | None = None) -> ClaimAllResult:
    """Claim every completed mission of the player that is still claimable.

    Each mission goes through mission_claim (its own transaction and row lock), so each is paid
    exactly once: a mission a parallel claim (or claim-all) took first is skipped, not paid
    again. Oldest completion first.
    """
    now = now or timezone.now()
    grace_start = now - timedelta(hours=int(settings.MISSIONS_CLAIM_GRACE_HOURS))
    mission_ids = list(
        ActiveMission.objects.filter(user_id=user_id, state=MissionState.COMPLETED)
        .filter(Q(period_end__isnull=True) | Q(period_end__gt=grace_start))
        .order_by("completed_at", "pk")
        .values_list("pk", flat=True)
    )
    claimed: list[ClaimResult] = []
    for mission_id in mission_ids:
        try:
            claimed.append(mission_claim(mission_id=mission_id, user_id=user_id, now=now))
        except (AlreadyClaimed, NotComplete, ClaimExpired):
            continue  # another request claimed it meanwhile, or it just ran out of time
    balance = Balance.objects.filter(user_id=user_id).first()
    level = (
        PlayerProfile.objects.filter(user_id=user_id).values_list("level", flat=True).first() or 1
    )
    return ClaimAllResult(
        claimed=claimed,
        total=_sum_rewards(claimed),
        balances={
            "xp": balance.xp if balance else 0,
            "dgt": dgt_str(balance.dgt if balance else 0),
        },
        level=level,
        next_level_xp=next_level_xp(level),
    )


def mission_auto_grant(*, mission_id: int, now: datetime) -> ClaimResult | None:
    """Pay one completed-unclaimed mission past its grace time (None if no longer due)."""
    with transaction.atomic():
        mission = _locked_mission(mission_id, None)
        if mission is None or mission.state != MissionState.COMPLETED:
            return None
        deadline = claim_deadline(mission)
        if deadline is None or now < deadline:
            return None
        return _pay(mission, now=now, source=ClaimSource.AUTO_GRANT)
