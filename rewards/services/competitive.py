"""Competitive finalisation: at the end of a competitive template's period (plus the
late-event grace), rank the players, keep the final leaderboard and pay the tiers once.

Ranking (documented in docs/rewards.md):
- only qualifying players are ranked: every requirement at its target (the target is the
  qualifying score) and a score above zero; the score is the sum of the requirements';
- higher score first; on an equal score, whoever reached it first (`reached_at`, the time of
  their last scoring event) ranks higher — as the live leaderboard shows it;
- players equal on both share the rank ("1, 2, 2, 4"), and a shared rank pays its tier to
  each of them;
- tiers are `metadata.reward_tiers` `[{"rank_to": 1, ...}, {"rank_to": 10, ...}]`: a rank
  is paid the first tier whose rank_to reaches it. Fewer players than tiers: the lower
  tiers are simply not paid.

Exactly once: one transaction per (template, period) under an advisory lock; it takes the
period's still-`active` missions, and leaves each one `claimed` (paid through the one grant
path, `rewards_grant` with the mission's idempotency key, plus a Claim row) or `expired`.
A second, late or concurrent run finds no active mission and pays nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from missions.cache import player_cache_bump
from missions.models import ActiveMission, MissionProgress, MissionState, MissionType

from ..models import Claim, ClaimSource, CompetitiveStanding
from ..signals import leaderboard_finalised
from .claims import base_rewards
from .ledger import rewards_grant

LOCK_NAMESPACE = 7_203


@dataclass
class FinalizeReport:
    periods: int = 0
    ranked: int = 0
    paid: int = 0
    expired: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "periods": self.periods,
            "ranked": self.ranked,
            "paid": self.paid,
            "expired": self.expired,
        }


def tier_for(rank: int, tiers: list[dict[str, Any]]) -> dict[str, Any] | None:
    for tier in sorted(tiers, key=lambda t: int(t["rank_to"])):
        if rank <= int(tier["rank_to"]):
            return tier
    return None


def final_ranks(
    entries: list[tuple[int, Decimal, datetime | None]],
) -> list[tuple[int, int]]:
    """(mission id, score, reached_at) → [(mission id, rank)], competition ranking."""
    far = datetime.max.replace(tzinfo=None)

    def order(e: tuple[int, Decimal, datetime | None]) -> tuple[Decimal, Any, int]:
        reached = e[2].replace(tzinfo=None) if e[2] else far
        return (-e[1], reached, e[0])

    ranked: list[tuple[int, int]] = []
    previous: tuple[Decimal, datetime | None] | None = None
    rank = 0
    for position, entry in enumerate(sorted(entries, key=order), start=1):
        if (entry[1], entry[2]) != previous:
            rank, previous = position, (entry[1], entry[2])
        ranked.append((entry[0], rank))
    return ranked


def _finalize_period(template_id: int, period_start: datetime, now: datetime) -> FinalizeReport:
    report = FinalizeReport(periods=1)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)",
                    [LOCK_NAMESPACE, template_id],
                )
        missions = list(
            ActiveMission.objects.select_for_update(of=("self",))
            .select_related("template")
            .filter(template_id=template_id, period_start=period_start, state=MissionState.ACTIVE)
            .order_by("pk")
        )
        if not missions:
            return FinalizeReport()
        template = missions[0].template
        tiers = list((template.metadata or {}).get("reward_tiers") or [])
        rows: dict[int, list[MissionProgress]] = defaultdict(list)
        for row in MissionProgress.objects.filter(mission__in=missions):
            rows[row.mission_id].append(row)
        entries = []
        for mission in missions:
            progress = rows[mission.pk]
            score = sum((p.current for p in progress), Decimal(0))
            if progress and score > 0 and all(p.current >= p.target for p in progress):
                reached = max((p.reached_at for p in progress if p.reached_at), default=None)
                entries.append((mission.pk, score, reached))
        by_id = {m.pk: m for m in missions}
        scores = {e[0]: (e[1], e[2]) for e in entries}
        standings = []
        paid_ids = set()
        for mission_id, rank in final_ranks(entries):
            mission = by_id[mission_id]
            assert mission.period_end is not None  # only ended periods are finalised
            tier = tier_for(rank, tiers)
            rewards = base_rewards(tier.get("rewards")) if tier else {}
            score, reached = scores[mission_id]
            standings.append(
                CompetitiveStanding(
                    mission=mission,
                    template=template,
                    user_id=mission.user_id,
                    period_start=mission.period_start,
                    period_end=mission.period_end,
                    rank=rank,
                    score=score,
                    reached_at=reached,
                    tier_rank_to=int(tier["rank_to"]) if tier else None,
                    rewards=rewards,
                    players=len(entries),
                    finalized_at=now,
                )
            )
            if tier is None:
                continue
            grant = rewards_grant(
                user_id=mission.user_id,
                rewards=rewards,
                idempotency_key=f"mission:{mission.pk}",
                reason=f"rank {rank} in {template.key}",
                mission_id=mission.pk,
            )
            if not grant.created:
                continue  # paid already (a state/ledger mismatch check_ledger reports)
            Claim.objects.create(
                mission=mission,
                user_id=mission.user_id,
                ledger_entry=grant.entry,
                source=ClaimSource.COMPETITIVE,
                base_rewards=rewards,
                bonuses=[],
                granted=rewards,
                meta_badges=[],
                created_at=now,
            )
            paid_ids.add(mission.pk)
        CompetitiveStanding.objects.bulk_create(standings)
        ActiveMission.objects.filter(pk__in=paid_ids).update(
            state=MissionState.CLAIMED, claimed_at=now
        )
        report.expired = (
            ActiveMission.objects.filter(pk__in=[m.pk for m in missions])
            .exclude(pk__in=paid_ids)
            .update(state=MissionState.EXPIRED)
        )
        report.ranked, report.paid = len(entries), len(paid_ids)
        player_cache_bump(user_ids={m.user_id for m in missions})
        leaderboard_finalised.send(
            sender=CompetitiveStanding, template=template, standings=standings, now=now
        )
    return report


def competitive_finalize_due(*, now: datetime) -> FinalizeReport:
    """Finalise every competitive period that ended (plus the late-event grace) before now."""
    cutoff = now - timedelta(minutes=int(settings.MISSIONS_LATE_EVENT_GRACE_MINUTES))
    due = (
        ActiveMission.objects.filter(
            template__type=MissionType.COMPETITIVE,
            state=MissionState.ACTIVE,
            period_end__isnull=False,
            period_end__lte=cutoff,
        )
        .values_list("template_id", "period_start")
        .distinct()
        .order_by("period_start", "template_id")
    )
    total = FinalizeReport()
    for template_id, period_start in list(due):
        part = _finalize_period(template_id, period_start, now)
        total.periods += part.periods
        total.ranked += part.ranked
        total.paid += part.paid
        total.expired += part.expired
    return total
