"""Emission guardrails: optional daily XP and DGT budgets (settings ECONOMY_DAILY_*_BUDGET),
compared with the actual emission (rollups) and a draft's projected emission (backtest)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db.models import Sum

from missions.services.backtest import template_backtest

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


@dataclass(frozen=True)
class EmissionLine:
    """One currency's emission per day: now (the last 7 days' mean, from the rollups), what
    a draft would add (its backtest), and the daily budget (None: no budget)."""

    unit: str
    now: Decimal
    projected: Decimal
    budget: Decimal | None

    @property
    def total(self) -> Decimal:
        return self.now + self.projected

    @property
    def over(self) -> bool:
        return self.budget is not None and self.total > self.budget

    def text(self, name: str) -> str:
        """A figure without trailing zeros: 167.29, not 167.29000000."""
        value: Decimal | None = getattr(self, name)
        if value is None:
            return ""
        digits = 2 if self.unit == "XP" else 8
        return f"{value.quantize(Decimal(1).scaleb(-digits)).normalize():f}"

    @property
    def texts(self) -> dict[str, str]:
        return {name: self.text(name) for name in ("now", "projected", "total", "budget")}

    @property
    def warning(self) -> str:
        return (
            f"{self.unit}: {self.now.normalize():f} per day now + {self.projected.normalize():f} "
            f"projected exceeds the daily budget of {self.budget}"
        )


def emission_against_budget(
    *, xp_per_day: Decimal, dgt_per_day: Decimal, end: date
) -> list[EmissionLine]:
    """Projected emission per day (now + a draft's projection) against each daily budget."""
    budget = daily_budget()
    xp_now, dgt_now = actual_per_day(end=end)
    return [
        EmissionLine("XP", xp_now, xp_per_day, budget.xp),
        EmissionLine("DGT", dgt_now, dgt_per_day, budget.dgt),
    ]


def over_budget(*, xp_per_day: Decimal, dgt_per_day: Decimal, end: date) -> list[str]:
    """Warnings when today's emission plus a draft's projection exceeds a daily budget."""
    if not daily_budget().any:
        return []
    lines = emission_against_budget(xp_per_day=xp_per_day, dgt_per_day=dgt_per_day, end=end)
    return [line.warning for line in lines if line.over]


BUDGET_CHECK_DAYS = 14


def template_budget_warnings(*, template: Mapping[str, Any], now: datetime) -> list[str]:
    """Before a template is published: its backtest over the last 14 days (all players) plus
    today's emission, against the daily budgets. No budget set: nothing to check, no backtest."""
    if not daily_budget().any:
        return []
    result = template_backtest(template=template, days=BUDGET_CHECK_DAYS, now=now)
    return over_budget(xp_per_day=result.xp_per_day, dgt_per_day=result.dgt_per_day, end=now.date())
