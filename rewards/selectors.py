"""Reads of the rewards app: wallet, claim history, ledger verification."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from missions.models import (
    ActiveMission,
    MissionProgress,
    MissionState,
    MissionType,
    PlayerProfile,
)

from .levels import level_progress, next_level_xp
from .models import (
    Balance,
    Claim,
    CompetitiveStanding,
    InventoryItem,
    LedgerEntry,
    UserBadge,
    UserTitle,
)
from .services.bonuses import bonus_explanation
from .services.claims import base_rewards
from .services.ledger import dgt_str, to_dgt


def player_balances(*, user_id: int) -> dict[str, Any]:
    """Level (with the progress inside it), XP and DGT of one player (2 queries)."""
    balance = Balance.objects.filter(user_id=user_id).first()
    level = (
        PlayerProfile.objects.filter(user_id=user_id).values_list("level", flat=True).first() or 1
    )
    xp = balance.xp if balance else 0
    return {
        "level": level,
        "xp": xp,
        "dgt": dgt_str(to_dgt(balance.dgt if balance else 0)),
        "next_level_xp": next_level_xp(level),
        "level_progress": level_progress(level, xp),
    }


def player_wallet(*, user_id: int) -> dict[str, Any]:
    """Level, balances, badges, titles and inventory of one player (5 queries, no N+1)."""
    return {
        **player_balances(user_id=user_id),
        "badges": [
            {"key": b.badge.key, "name": b.badge.name, "icon": b.badge.icon}
            for b in UserBadge.objects.filter(user_id=user_id)
            .select_related("badge")
            .order_by("awarded_at", "id")
        ],
        "titles": [
            {"key": t.title.key, "name": t.title.name, "icon": t.title.icon}
            for t in UserTitle.objects.filter(user_id=user_id)
            .select_related("title")
            .order_by("awarded_at", "id")
        ],
        "inventory": [
            {"key": i.item.key, "name": i.item.name, "icon": i.item.icon, "qty": i.qty}
            for i in InventoryItem.objects.filter(user_id=user_id, qty__gt=0)
            .select_related("item")
            .order_by("item__key")
        ],
    }


def claim_history(*, user_id: int) -> QuerySet[Claim]:
    """The player's payouts, newest first, with the mission and template loaded.

    Each row has mission.template.name, source (claim|auto_grant|competitive), base_rewards,
    bonuses (each {kind, multiplier_xp, multiplier_dgt, detail}), granted and meta_badges;
    a competitive payout also has mission.standing (the final rank, score, players).
    """
    return (
        Claim.objects.filter(user_id=user_id)
        .select_related("mission__template", "mission__standing")
        .order_by("-created_at", "-id")
    )


# What a ledger entry is, from its idempotency key and, for mission payouts, its Claim row's
# source. Keys: "mission:<id>" (claims, auto-grants and competitive tier prizes: Claim.source
# says which), "meta:<key>:user:<id>" (achievements), "competitive:..." and "streak:..." (tier
# prizes and streak rewards granted under keys of their own); anything else is a grant (admin
# grants, demo starting balances).
HISTORY_KINDS = {
    "claim": "Mission claimed",
    "auto_grant": "Paid automatically",
    "achievement": "Achievement",
    "competitive": "Competition prize",
    "streak": "Streak reward",
    "grant": "Grant",
}


def _entry_kind() -> Case:
    claim_source = Claim.objects.filter(ledger_entry=OuterRef("pk")).values("source")[:1]
    return Case(
        When(
            idempotency_key__startswith="mission:",
            then=Coalesce(Subquery(claim_source), Value("claim")),
        ),
        When(idempotency_key__startswith="meta:", then=Value("achievement")),
        When(idempotency_key__startswith="competitive", then=Value("competitive")),
        When(idempotency_key__startswith="streak", then=Value("streak")),
        default=Value("grant"),
        output_field=CharField(),
    )


def ledger_history(*, user_id: int, kinds: Sequence[str] | None = None) -> QuerySet[LedgerEntry]:
    """Every ledger entry of the player, newest first, each annotated with its `kind` (see
    HISTORY_KINDS); the XP and DGT of all of them sum to the balance. One query per page;
    `history_rows` adds the claims' bonuses in one more."""
    qs = (
        LedgerEntry.objects.filter(user_id=user_id)
        .annotate(kind=_entry_kind())
        .select_related("mission__template")
        .order_by("-created_at", "-id")
    )
    if kinds:
        qs = qs.filter(kind__in=list(kinds))
    return qs


def _standing(
    standing: CompetitiveStanding | None, boards: dict[tuple[int, datetime], list[dict]]
) -> dict[str, Any] | None:
    """A competitive payout's final leaderboard entry, with the top of that final board."""
    if standing is None:
        return None
    return {
        "rank": standing.rank,
        "score": standing.score,
        "players": standing.players,
        "tier_rank_to": standing.tier_rank_to,
        "finalized_at": standing.finalized_at,
        "leaderboard": boards.get((standing.template_id, standing.period_start), []),
    }


def final_leaderboards(
    boards: Iterable[tuple[int, datetime]],
) -> dict[tuple[int, datetime], list[dict[str, Any]]]:
    """The top REWARDS_HISTORY_LEADERBOARD_TOP rows of each final leaderboard (template id,
    period start), as kept by the finaliser: one query whatever the number of boards."""
    boards = set(boards)
    if not boards:
        return {}
    which = Q()
    for template_id, period_start in boards:
        which |= Q(template_id=template_id, period_start=period_start)
    top = int(settings.REWARDS_HISTORY_LEADERBOARD_TOP)
    out: dict[tuple[int, datetime], list[dict[str, Any]]] = defaultdict(list)
    rows = (
        CompetitiveStanding.objects.filter(which, rank__lte=top)
        .order_by("template_id", "period_start", "rank", "user_id")
        .values("template_id", "period_start", "rank", "user_id", "user__username", "score",
                "tier_rank_to")
    )  # fmt: skip
    for row in rows:
        out[(row["template_id"], row["period_start"])].append(
            {
                "rank": row["rank"],
                "user_id": row["user_id"],
                "username": row["user__username"],
                "score": row["score"],
                "paid": row["tier_rank_to"] is not None,
            }
        )
    return out


def competition_standings(*, user_id: int) -> QuerySet[CompetitiveStanding]:
    """The player's final standings in finalised competitions, newest period first — paid
    (a tier reached) or not (ranked below every tier)."""
    return (
        CompetitiveStanding.objects.filter(user_id=user_id)
        .select_related("template", "mission")
        .order_by("-period_end", "template_id")
    )


def competition_rows(standings: Iterable[CompetitiveStanding]) -> list[dict[str, Any]]:
    """Standings as history rows, each with the top of its final leaderboard (2 queries)."""
    standings = list(standings)
    boards = final_leaderboards((s.template_id, s.period_start) for s in standings)
    return [
        {
            "status": "paid" if s.tier_rank_to is not None else "ranked",
            "key": s.template.key,
            "name": s.template.name,
            "mission_id": s.mission_id,
            "period_start": s.period_start,
            "period_end": s.period_end,
            "score": s.score,
            "rewards": base_rewards(s.rewards or {}),
            **(_standing(s, boards) or {}),
        }
        for s in standings
    ]


def competitions_pending(*, user_id: int, now: datetime) -> list[dict[str, Any]]:
    """The player's competitions whose period has ended but which are not finalised yet (the
    late-event grace, or a finaliser that has not run): the score so far and the rank it
    holds on the provisional board (as the live leaderboard orders it), not paid yet."""
    missions = list(
        ActiveMission.objects.filter(
            user_id=user_id,
            template__type=MissionType.COMPETITIVE,
            state=MissionState.ACTIVE,  # what the finaliser takes
            period_end__isnull=False,
            period_end__lte=now,
        )
        .select_related("template")
        .order_by("-period_end", "template_id")
    )
    grace = timedelta(minutes=int(settings.MISSIONS_LATE_EVENT_GRACE_MINUTES))
    rows = []
    for mission in missions:
        score_key = min(mission.template.requirements or {"": None})
        board = MissionProgress.objects.filter(
            mission__template_id=mission.template_id,
            mission__period_start=mission.period_start,
            requirement_key=score_key,
            current__gt=0,
        )
        mine = board.filter(mission_id=mission.pk).values("current", "reached_at").first()
        rank = None
        if mine is not None:
            c, r = mine["current"], mine["reached_at"]
            rank = 1 + board.filter(
                Q(current__gt=c) | Q(current=c, reached_at__lt=r)
                | Q(current=c, reached_at=r, user_id__lt=user_id)
            ).count()  # fmt: skip
        rows.append(
            {
                "status": "pending",
                "key": mission.template.key,
                "name": mission.template.name,
                "mission_id": mission.pk,
                "period_start": mission.period_start,
                "period_end": mission.period_end,
                "score": mine["current"] if mine else Decimal(0),
                "provisional_rank": rank,
                "players": board.count(),
                "finalises_after": mission.period_end + grace if mission.period_end else None,
            }
        )
    return rows


def history_rows(entries: Iterable[LedgerEntry]) -> list[dict[str, Any]]:
    """Ledger entries as history rows: what, why, how much, and for mission payouts the base
    rewards, each bonus (with its explanation) and what was granted."""
    entries = list(entries)
    claims = {
        c.ledger_entry_id: c
        for c in Claim.objects.filter(ledger_entry_id__in=[e.pk for e in entries])
    }
    mission_ids = [e.mission_id for e in entries if e.mission_id is not None]
    standings = {
        s.mission_id: s for s in CompetitiveStanding.objects.filter(mission_id__in=mission_ids)
    }
    boards = final_leaderboards((s.template_id, s.period_start) for s in standings.values())
    rows = []
    for entry in entries:
        claim = claims.get(entry.pk)
        mission = entry.mission
        template = mission.template if mission is not None else None
        kind = getattr(entry, "kind", "grant")
        rows.append(
            {
                "id": entry.pk,
                "kind": kind,
                "kind_label": HISTORY_KINDS.get(kind, kind),
                "reason": entry.reason,
                "created_at": entry.created_at,
                "xp": entry.xp,
                "dgt": dgt_str(entry.dgt),
                "mission_id": entry.mission_id,
                "key": template.key if template else None,
                "name": template.name if template else None,
                "category": template.category if template else None,
                "period_type": mission.period_type if mission else None,
                "period_start": mission.period_start if mission else None,
                "base_rewards": claim.base_rewards if claim else None,
                "bonuses": [
                    {**b, "explanation": b.get("explanation") or bonus_explanation(b)}
                    for b in (claim.bonuses if claim else [])
                ],
                "granted": claim.granted if claim else None,
                "meta_badges": claim.meta_badges if claim else [],
                "standing": _standing(standings.get(entry.mission_id or 0), boards),
            }
        )
    return rows


def ledger_differences() -> list[str]:
    """Every way the ledger disagrees with balances and missions; empty when it is sound.

    - each Balance equals the sum of its user's entries (and no entries lack a balance);
    - each claimed mission has exactly one Claim and one ledger grant, and no unclaimed
      mission has either.
    """
    problems: list[str] = []
    sums: dict[int, tuple[int, Decimal]] = {
        row["user_id"]: (row["xp"] or 0, row["dgt"] or Decimal(0))
        for row in LedgerEntry.objects.values("user_id")
        .annotate(xp=Sum("xp"), dgt=Sum("dgt"))
        .order_by()
    }
    balances = {b.user_id: (b.xp, b.dgt) for b in Balance.objects.all()}
    for user_id in sorted(set(sums) | set(balances)):
        expected = sums.get(user_id, (0, Decimal(0)))
        actual = balances.get(user_id)
        if actual is None:
            problems.append(f"user {user_id}: entries sum to {expected} but there is no balance")
        elif actual[0] != expected[0] or actual[1] != expected[1]:
            problems.append(
                f"user {user_id}: balance xp={actual[0]} dgt={actual[1]} but entries sum to "
                f"xp={expected[0]} dgt={expected[1]}"
            )

    grants: dict[int, int] = defaultdict(int)
    for row in (
        LedgerEntry.objects.filter(mission__isnull=False)
        .values("mission_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        grants[row["mission_id"]] = row["n"]
    claims = dict(
        Claim.objects.values("mission_id").annotate(n=Count("id")).values_list("mission_id", "n")
    )
    claimed = set(
        ActiveMission.objects.filter(state=MissionState.CLAIMED).values_list("id", flat=True)
    )
    for mission_id in sorted(claimed | set(grants) | set(claims)):
        g, c = grants.get(mission_id, 0), claims.get(mission_id, 0)
        if mission_id in claimed and (g != 1 or c != 1):
            problems.append(f"mission {mission_id}: claimed with {g} grants and {c} claim rows")
        elif mission_id not in claimed:
            problems.append(f"mission {mission_id}: not claimed but has {g} grants, {c} claims")
    return problems


def badge_keys_by_user(*, user_ids: Sequence[int]) -> Iterable[tuple[int, str]]:
    """(user_id, badge key) for each badge these users hold: assignment's `badges` prerequisite
    source (registered in RewardsConfig.ready)."""
    return UserBadge.objects.filter(user_id__in=user_ids).values_list("user_id", "badge__key")
