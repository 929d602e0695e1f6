"""Rebuilding the rollups for a range of days: delete the range, insert it again from the
sources, in one transaction (a fixed number of grouped queries whatever the range)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from missions.models import ActiveMission, Event, MissionTemplate
from rewards.models import Claim, LedgerEntry

from .models import DayTotals, TemplateDay


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def analytics_refresh(*, start: date, end: date) -> int:
    """Rebuild the rollups of the days start..end (inclusive); returns rows written."""
    low, high = _bounds(start, end)
    utc = UTC
    missions = (
        ActiveMission.objects.filter(period_start__gte=low, period_start__lt=high)
        .annotate(day=TruncDate("period_start", tzinfo=utc))
        .values("day", "template_id")
        .annotate(
            assigned=Count("id"),
            completed=Count("id", filter=Q(completed_at__isnull=False)),
            abandoned=Count("id", filter=Q(state="expired")),
            failed=Count("id", filter=Q(state="failed")),
            claimed=Count("id", filter=Q(claimed_at__isnull=False)),
            duration=Sum(
                ExpressionWrapper(
                    F("completed_at") - F("assigned_at"), output_field=DurationField()
                ),
                filter=Q(completed_at__isnull=False),
            ),
        )
        .order_by()
    )
    templates = {t.pk: t for t in MissionTemplate.objects.only("id", "category", "metadata")}
    rows = []
    for row in missions:
        template = templates.get(row["template_id"])
        if template is None:
            continue
        duration = row["duration"] or timedelta(0)
        rows.append(
            TemplateDay(
                day=row["day"],
                template_id=row["template_id"],
                category=template.category,
                difficulty=str((template.metadata or {}).get("difficulty") or ""),
                assigned=row["assigned"],
                completed=row["completed"],
                abandoned=row["abandoned"],
                failed=row["failed"],
                claimed=row["claimed"],
                seconds_to_complete=int(duration.total_seconds()),
            )
        )
    active = {
        row["day"]: row["n"]
        for row in Event.objects.filter(occurred_at__gte=low, occurred_at__lt=high)
        .annotate(day=TruncDate("occurred_at", tzinfo=utc))
        .values("day")
        .annotate(n=Count("user_id", distinct=True))
        .order_by()
    }
    # A payout counts on the day of its claim or auto-grant (the time the grant path was
    # given), else of its ledger entry. A claim is never later than its entry, so the entry's
    # time bounds the scan from below.
    claimed_at = Claim.objects.filter(ledger_entry=OuterRef("pk")).values("created_at")[:1]
    paid = {
        row["day"]: (row["xp"] or 0, row["dgt"] or Decimal(0))
        for row in LedgerEntry.objects.filter(mission__isnull=False, created_at__gte=low)
        .annotate(paid_at=Coalesce(Subquery(claimed_at), F("created_at")))
        .filter(paid_at__gte=low, paid_at__lt=high)
        .annotate(day=TruncDate("paid_at", tzinfo=utc))
        .values("day")
        .annotate(xp=Sum("xp"), dgt=Sum("dgt"))
        .order_by()
    }
    now = timezone.now()
    totals = []
    day = start
    while day <= end:
        xp, dgt = paid.get(day, (0, Decimal(0)))
        totals.append(
            DayTotals(
                day=day,
                active_players=active.get(day, 0),
                xp_awarded=xp,
                dgt_awarded=dgt,
                refreshed_at=now,
            )
        )
        day += timedelta(days=1)
    with transaction.atomic():
        TemplateDay.objects.filter(day__gte=start, day__lte=end).delete()
        DayTotals.objects.filter(day__gte=start, day__lte=end).delete()
        TemplateDay.objects.bulk_create(rows, batch_size=2000)
        DayTotals.objects.bulk_create(totals, batch_size=2000)
    return len(rows) + len(totals)


def analytics_refresh_recent(*, now: datetime, days: int) -> int:
    """The task's job: the last `days` days, where missions still change state."""
    today = now.astimezone(UTC).date()
    return analytics_refresh(start=today - timedelta(days=days - 1), end=today)
