"""Dynamic rewards: speed, streak and perfect bonuses (SPEC.md's numbers, one streak table).

Order: speed, then streak, then perfect. Multipliers multiply together and the result is
rounded once at the end: XP down to an integer, DGT down to 8 decimal places. Items,
badges and titles are never multiplied.

- speed: time-to-complete (completed_at − assigned_at) is under half the template's
  average over earlier completions (other missions of the template completed before this
  one within REWARDS_SPEED_WINDOW_DAYS; at least REWARDS_SPEED_MIN_SAMPLE of them, else no
  bonus) → xp ×1.5, dgt ×1.25.
- streak: the player's daily streak (if still alive at claim time) → the table in
  streaks.multipliers, on xp and dgt.
- perfect: every mission of the player's same period (same period type and start) is
  completed, and the period has at least REWARDS_PERFECT_MIN_MISSIONS missions → xp ×1.25.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q

from missions.models import ActiveMission, MissionState
from streaks.multipliers import streak_multiplier
from streaks.selectors import daily_streak_for_bonus

from .ledger import dgt_str, to_dgt

SPEED_XP, SPEED_DGT = Decimal("1.5"), Decimal("1.25")
PERFECT_XP = Decimal("1.25")
DONE_STATES = (MissionState.COMPLETED, MissionState.CLAIMED)


@dataclass(frozen=True)
class Bonus:
    kind: str  # speed | streak | perfect
    multiplier_xp: Decimal
    multiplier_dgt: Decimal
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        out = {
            "kind": self.kind,
            "multiplier_xp": str(self.multiplier_xp),
            "multiplier_dgt": str(self.multiplier_dgt),
            "detail": self.detail,
        }
        return {**out, "explanation": bonus_explanation(out)}


def _minutes(seconds: Any) -> str:
    minutes = max(1, int(seconds or 0) // 60)
    return f"{minutes // 60}h {minutes % 60}m" if minutes >= 60 else f"{minutes}m"


def bonus_explanation(bonus: dict[str, Any]) -> str:
    """One line a player reads: the bonus's name, why it applied, what it multiplied.

    Works on stored bonus dicts too (claims made before explanations existed)."""
    kind = str(bonus.get("kind", "bonus"))
    detail = bonus.get("detail") or {}
    xp, dgt = str(bonus.get("multiplier_xp", "1")), str(bonus.get("multiplier_dgt", "1"))
    if xp == dgt:
        factors = f"×{xp} XP and DGT"
    else:
        factors = ", ".join(
            f"×{m} {unit}" for m, unit in ((xp, "XP"), (dgt, "DGT")) if Decimal(m) != 1
        )
    if kind == "speed":
        why = (
            f"done in {_minutes(detail.get('seconds_to_complete'))}, under half the average "
            f"{_minutes(detail.get('average_seconds'))}"
        )
    elif kind == "streak":
        why = f"{detail.get('daily_streak', '?')}-day daily streak"
    elif kind == "perfect":
        why = f"every {detail.get('period_type', '')} mission completed".replace("  ", " ")
    else:
        why = kind
    return f"{kind}: {why}, {factors}"


def apply_bonuses(base: dict[str, Any], bonuses: list[Bonus]) -> dict[str, Any]:
    """Base rewards with every bonus applied (pure: no database)."""
    xp_factor = Decimal(1)
    dgt_factor = Decimal(1)
    for bonus in bonuses:
        xp_factor *= bonus.multiplier_xp
        dgt_factor *= bonus.multiplier_dgt
    granted = dict(base)
    granted["xp"] = int(
        (Decimal(int(base.get("xp") or 0)) * xp_factor).to_integral_value(ROUND_DOWN)
    )
    granted["dgt"] = dgt_str(to_dgt(base.get("dgt")) * dgt_factor)
    for key in ("items", "badges", "titles"):
        granted[key] = list(base.get(key) or [])
    return granted


def speed_bonus(mission: ActiveMission) -> Bonus | None:
    if mission.completed_at is None:
        return None
    took = mission.completed_at - mission.assigned_at
    since = mission.completed_at - timedelta(days=int(settings.REWARDS_SPEED_WINDOW_DAYS))
    stats = (
        ActiveMission.objects.filter(
            template_id=mission.template_id,
            state__in=DONE_STATES,
            completed_at__lt=mission.completed_at,
            completed_at__gte=since,
        )
        .exclude(pk=mission.pk)
        .aggregate(
            n=Count("id"),
            average=Avg(
                ExpressionWrapper(
                    F("completed_at") - F("assigned_at"), output_field=DurationField()
                )
            ),
        )
    )
    average: timedelta | None = stats["average"]
    if stats["n"] < int(settings.REWARDS_SPEED_MIN_SAMPLE) or average is None:
        return None
    if took * 2 >= average:
        return None
    return Bonus(
        "speed",
        SPEED_XP,
        SPEED_DGT,
        {
            "seconds_to_complete": int(took.total_seconds()),
            "average_seconds": int(average.total_seconds()),
            "sample": stats["n"],
        },
    )


def streak_bonus(user_id: int, now: datetime) -> Bonus | None:
    days = daily_streak_for_bonus(user_id=user_id, now=now)
    multiplier = streak_multiplier(days)
    if multiplier == 1:
        return None
    return Bonus("streak", multiplier, multiplier, {"daily_streak": days})


def perfect_bonus(mission: ActiveMission) -> Bonus | None:
    stats = ActiveMission.objects.filter(
        user_id=mission.user_id,
        period_type=mission.period_type,
        period_start=mission.period_start,
    ).aggregate(total=Count("id"), done=Count("id", filter=Q(state__in=DONE_STATES)))
    if stats["total"] < int(settings.REWARDS_PERFECT_MIN_MISSIONS):
        return None
    if stats["done"] != stats["total"]:
        return None
    return Bonus(
        "perfect",
        PERFECT_XP,
        Decimal(1),
        {"period_type": mission.period_type, "missions": stats["total"]},
    )


def mission_bonuses(mission: ActiveMission, now: datetime) -> list[Bonus]:
    found = [speed_bonus(mission), streak_bonus(mission.user_id, now), perfect_bonus(mission)]
    return [b for b in found if b is not None]
