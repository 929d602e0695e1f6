"""Reads for the template admin: who has a template now, how often it is completed, claimed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from ..models import ActiveMission, MissionTemplate


@dataclass(frozen=True)
class TemplateStats:
    holding_now: int = 0  # players with it in a period that covers now
    assigned: int = 0
    completed: int = 0
    claimed: int = 0

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.assigned if self.assigned else None


def template_stats(*, template_ids: Iterable[int], now: datetime) -> dict[int, TemplateStats]:
    """One grouped query for any number of templates."""
    current = Q(period_start__lte=now) & (Q(period_end__isnull=True) | Q(period_end__gt=now))
    rows = (
        ActiveMission.objects.filter(template_id__in=list(template_ids))
        .values("template_id")
        .annotate(
            holding_now=Count("id", filter=current),
            assigned=Count("id"),
            completed=Count("id", filter=Q(completed_at__isnull=False)),
            claimed=Count("id", filter=Q(claimed_at__isnull=False)),
        )
        .order_by()
    )
    return {
        row["template_id"]: TemplateStats(
            holding_now=row["holding_now"],
            assigned=row["assigned"],
            completed=row["completed"],
            claimed=row["claimed"],
        )
        for row in rows
    }


def template_stats_annotations(
    queryset: QuerySet[MissionTemplate], *, now: datetime
) -> QuerySet[MissionTemplate]:
    """The same figures as template_stats, as `stat_*` annotations (one subquery each, on the
    (template, period_start) index) for the template list."""
    current = Q(period_start__lte=now) & (Q(period_end__isnull=True) | Q(period_end__gt=now))
    missions = ActiveMission.objects.filter(template=OuterRef("pk")).order_by().values("template")

    def count(condition: Q) -> Coalesce:
        counted = missions.filter(condition).annotate(n=Count("id")).values("n")[:1]
        return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

    return queryset.annotate(
        stat_holding_now=count(current),
        stat_assigned=count(Q()),
        stat_completed=count(Q(completed_at__isnull=False)),
        stat_claimed=count(Q(claimed_at__isnull=False)),
    )
