"""Dashboard figures, read from the rollups only (analytics/models.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from missions.models import MissionTemplate

from .models import DayTotals, TemplateDay

COUNTS = ("assigned", "completed", "abandoned", "failed", "claimed", "seconds_to_complete")


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: Decimal | None
    previous: Decimal | None
    unit: str = ""

    @property
    def change(self) -> Decimal | None:
        """Relative change against the previous range, in percent."""
        if self.value is None or not self.previous:
            return None
        return ((self.value - self.previous) / self.previous * 100).quantize(Decimal("0.1"))


def _ratio(numerator: Any, denominator: Any, scale: int = 1) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * scale / Decimal(denominator)).quantize(Decimal("0.1"))


def _range_figures(start: date, end: date) -> dict[str, Decimal | None]:
    sums = TemplateDay.objects.filter(day__gte=start, day__lte=end).aggregate(
        **{name: Sum(name) for name in COUNTS}
    )
    totals = DayTotals.objects.filter(day__gte=start, day__lte=end).aggregate(
        active=Sum("active_players"), xp=Sum("xp_awarded"), dgt=Sum("dgt_awarded")
    )
    days = (end - start).days + 1
    completed = sums["completed"] or 0
    return {
        "completion_rate": _ratio(completed, sums["assigned"], 100),
        "dau": _ratio(totals["active"] or 0, days),
        "minutes_to_complete": _ratio(sums["seconds_to_complete"] or 0, completed * 60),
        "xp": Decimal(totals["xp"] or 0),
        "dgt": Decimal(totals["dgt"] or 0).normalize() if totals["dgt"] else Decimal(0),
    }


def dashboard_kpis(*, start: date, end: date) -> list[Kpi]:
    days = (end - start).days + 1
    now = _range_figures(start, end)
    before = _range_figures(start - timedelta(days=days), start - timedelta(days=1))
    labels = (
        ("completion_rate", "Completion rate", "%"),
        ("dau", "Daily active players", ""),
        ("minutes_to_complete", "Avg time to complete", "min"),
        ("xp", "XP awarded", ""),
        ("dgt", "DGT awarded", ""),
    )
    return [Kpi(key, label, now[key], before[key], unit) for key, label, unit in labels]


def daily_series(*, start: date, end: date) -> dict[str, list[Any]]:
    by_day: dict[date, dict[str, int]] = defaultdict(lambda: {"completed": 0, "abandoned": 0})
    for row in (
        TemplateDay.objects.filter(day__gte=start, day__lte=end)
        .values("day")
        .annotate(completed=Sum("completed"), abandoned=Sum("abandoned"))
        .order_by("day")
    ):
        by_day[row["day"]] = {"completed": row["completed"], "abandoned": row["abandoned"]}
    labels, completed, abandoned = [], [], []
    day = start
    while day <= end:
        labels.append(day.isoformat())
        completed.append(by_day[day]["completed"])
        abandoned.append(by_day[day]["abandoned"])
        day += timedelta(days=1)
    return {"labels": labels, "completed": completed, "abandoned": abandoned}


def completion_by(*, field: str, start: date, end: date) -> list[dict[str, Any]]:
    """Completion rate per category or per difficulty ("" = not set)."""
    rows = (
        TemplateDay.objects.filter(day__gte=start, day__lte=end)
        .values(field)
        .annotate(assigned=Sum("assigned"), completed=Sum("completed"))
        .order_by(field)
    )
    return [
        {
            "label": row[field] or "(not set)",
            "assigned": row["assigned"],
            "completed": row["completed"],
            "rate": _ratio(row["completed"], row["assigned"], 100) or Decimal(0),
        }
        for row in rows
    ]


def template_ranking(*, start: date, end: date, min_assigned: int = 5) -> list[dict[str, Any]]:
    """Templates by completion rate (those assigned at least `min_assigned` times)."""
    rows = (
        TemplateDay.objects.filter(day__gte=start, day__lte=end)
        .values("template_id")
        .annotate(
            assigned=Sum("assigned"),
            completed=Sum("completed"),
            abandoned=Sum("abandoned"),
            claimed=Sum("claimed"),
        )
        .order_by()
    )
    names = dict(MissionTemplate.objects.values_list("pk", "name"))
    keys = dict(MissionTemplate.objects.values_list("pk", "key"))
    out = [
        {
            "template_id": row["template_id"],
            "key": keys.get(row["template_id"], "?"),
            "name": names.get(row["template_id"], "?"),
            "assigned": row["assigned"],
            "completed": row["completed"],
            "abandoned": row["abandoned"],
            "claimed": row["claimed"],
            "rate": _ratio(row["completed"], row["assigned"], 100) or Decimal(0),
        }
        for row in rows
        if row["assigned"] >= min_assigned
    ]
    out.sort(key=lambda r: (-r["rate"], r["key"]))
    return out


def export_rows(*, start: date, end: date) -> list[list[Any]]:
    keys = dict(MissionTemplate.objects.values_list("pk", "key"))
    header = ["day", "template", "category", "difficulty", *COUNTS]
    rows: list[list[Any]] = [header]
    for row in TemplateDay.objects.filter(day__gte=start, day__lte=end).order_by(
        "day", "template_id"
    ):
        rows.append(
            [
                row.day.isoformat(),
                keys.get(row.template_id, row.template_id),
                row.category,
                row.difficulty,
                *(getattr(row, name) for name in COUNTS),
            ]
        )
    return rows


PROJECTION_DAYS = 7


def emission_series(*, start: date, end: date, today: date) -> dict[str, Any]:
    """XP and DGT paid per day (DayTotals) from `start` to `end`, and a projection: for each
    day, the mean of the 7 days before it (for days after today: the mean of the 7 days up
    to today, the figure the builder adds a draft's backtest to), continued 7 days past
    today when the range reaches it. Decimals become floats here only to be drawn."""
    first = start - timedelta(days=PROJECTION_DAYS)
    last = max(end, today + timedelta(days=PROJECTION_DAYS)) if end >= today else end
    paid = {
        row["day"]: (Decimal(row["xp_awarded"]), Decimal(row["dgt_awarded"]))
        for row in DayTotals.objects.filter(day__gte=first, day__lte=min(end, today)).values(
            "day", "xp_awarded", "dgt_awarded"
        )
    }
    zero = (Decimal(0), Decimal(0))

    def mean_before(day: date, *, inclusive: bool = False) -> tuple[Decimal, Decimal]:
        days = [day - timedelta(days=n) for n in range(0 if inclusive else 1, PROJECTION_DAYS + 1)]
        days = days[:PROJECTION_DAYS]
        return (
            sum((paid.get(d, zero)[0] for d in days), Decimal(0)) / PROJECTION_DAYS,
            sum((paid.get(d, zero)[1] for d in days), Decimal(0)) / PROJECTION_DAYS,
        )

    ahead = mean_before(today, inclusive=True)
    out: dict[str, list[Any]] = {
        k: [] for k in ("labels", "xp", "dgt", "xp_projected", "dgt_projected")
    }
    day = start
    while day <= last:
        out["labels"].append(day.isoformat())
        actual = paid.get(day, zero) if day <= today else None
        projected = mean_before(day) if day <= today else ahead
        out["xp"].append(None if actual is None else float(actual[0]))
        out["dgt"].append(None if actual is None else float(actual[1]))
        out["xp_projected"].append(round(float(projected[0]), 2))
        out["dgt_projected"].append(round(float(projected[1]), 8))
        day += timedelta(days=1)
    return out
