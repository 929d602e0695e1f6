"""Emission guardrails: optional daily XP and DGT budgets (settings ECONOMY_DAILY_*_BUDGET),
compared with the actual emission (rollups) and a draft's projected emission (backtest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import Sum

from .models import DayTotals


@dataclass(frozen=True)
class Budget:
    xp: Decimal | None
    dgt: Decimal | None

    @property
    def any(self) -> bool:
        return self.xp is not None or self.dgt is not None


def _decimal(value: object) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"an emission budget must be a decimal, got {value!r}") from None


def daily_budget() -> Budget:
    return Budget(
        xp=_decimal(getattr(settings, "ECONOMY_DAILY_XP_BUDGET", None)),
        dgt=_decimal(getattr(settings, "ECONOMY_DAILY_DGT_BUDGET", None)),
    )


def actual_per_day(*, end: date, days: int = 7) -> tuple[Decimal, Decimal]:
    """Mean XP and DGT paid per day over the `days` days up to `end` (rollups)."""
    sums = DayTotals.objects.filter(day__gt=end - timedelta(days=days), day__lte=end).aggregate(
        xp=Sum("xp_awarded"), dgt=Sum("dgt_awarded")
    )
    return (
        (Decimal(sums["xp"] or 0) / days).quantize(Decimal("0.01")),
        (Decimal(sums["dgt"] or 0) / days).quantize(Decimal("0.00000001")),
    )


def over_budget(*, xp_per_day: Decimal, dgt_per_day: Decimal, end: date) -> list[str]:
    """Warnings when today's emission plus a draft's projection exceeds a daily budget."""
    budget = daily_budget()
    if not budget.any:
        return []
    xp_now, dgt_now = actual_per_day(end=end)
    warnings = []
    if budget.xp is not None and xp_now + xp_per_day > budget.xp:
        warnings.append(
            f"XP: {xp_now} per day now + {xp_per_day} projected exceeds the daily budget of "
            f"{budget.xp}"
        )
    if budget.dgt is not None and dgt_now + dgt_per_day > budget.dgt:
        warnings.append(
            f"DGT: {dgt_now.normalize()} per day now + {dgt_per_day.normalize()} projected "
            f"exceeds the daily budget of {budget.dgt}"
        )
    return warnings
