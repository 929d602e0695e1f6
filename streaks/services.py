"""Writes of the streaks app: count a day/week, consume freezes, restore after outages.

Daily streaks count the player's local days; weekly streaks their local ISO weeks, stored
as their Monday (streaks/units.py; a timezone change never breaks or doubles a day).
Every update holds the streak row lock, and counting a day that is already counted changes
nothing, so replays and races are harmless. `streak_record` extends a run forward only; a
completion of an older day that was not counted (a late event) makes the outbox
(`streaks_credit_pending`) rebuild the run from every counted completion, as replay does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from missions.errors import Conflict, NotFound, ValidationFailed
from missions.models import ActiveMission, MissionState, MissionType, PeriodType
from missions.periods import Schedule
from missions.services.timezones import schedule_for
from rewards.services.inventory import inventory_consume

from .models import (
    Streak,
    StreakBreak,
    StreakCredit,
    StreakFreezeUse,
    StreakKind,
    StreakRestore,
)
from .signals import streak_updated
from .units import FREEZE_ITEM, missed_units, streak_unit, unit_step


@dataclass
class StreakUpdate:
    streak: Streak
    counted: bool  # False: that day/week was already counted (or is older), nothing changed
    frozen_days: list[date] = field(default_factory=list)
    broken: StreakBreak | None = None


def _locked_streak(user_id: int, kind: str) -> Streak:
    Streak.objects.bulk_create([Streak(user_id=user_id, kind=kind)], ignore_conflicts=True)
    return Streak.objects.select_for_update().get(user_id=user_id, kind=kind)


def streak_record(
    *, user_id: int, kind: str, at: datetime, schedule: Schedule | None = None
) -> StreakUpdate:
    """Count the player's local day (or ISO week) of `at` for their `kind` streak
    (`schedule`: the player's, loaded when not given).

    A gap of missed daily days is covered by `streak_freeze` items, one per day, only if the
    player holds enough to cover the whole gap (a freeze that cannot save the streak is
    not spent); otherwise the streak breaks (recorded) and starts again at 1.
    """
    if kind not in StreakKind.values:
        raise ValidationFailed(f"unknown streak kind {kind!r}", errors={"kind": "is unknown"})
    schedule = schedule or schedule_for(user_id)
    unit = streak_unit(kind, at, schedule)
    with transaction.atomic():
        streak = _locked_streak(user_id, kind)
        last = streak.last_completed
        if last is not None and unit <= last:
            return StreakUpdate(streak=streak, counted=False)
        update = StreakUpdate(streak=streak, counted=True)
        if last is None:
            streak.current = 1
        else:
            missed = missed_units(kind, last, unit, schedule)
            if not missed:
                streak.current += 1
            elif kind == StreakKind.DAILY and _freeze(streak, user_id, missed):
                update.frozen_days = missed
                streak.current += 1
            else:
                update.broken = StreakBreak.objects.create(
                    streak=streak, missed_from=missed[0], length=streak.current
                )
                streak.current = 1
        streak.best = max(streak.best, streak.current)
        streak.last_completed = unit
        streak.save(update_fields=["current", "best", "last_completed", "updated_at"])
        streak_updated.send(sender=Streak, user_id=user_id, kind=kind, update=update)
    return update


def _freeze(streak: Streak, user_id: int, missed: list[date]) -> bool:
    if not inventory_consume(user_id=user_id, item_key=FREEZE_ITEM, qty=len(missed)):
        return False
    StreakFreezeUse.objects.bulk_create(
        [StreakFreezeUse(streak=streak, covered_day=day) for day in missed]
    )
    return True


def streak_restore(
    *, streak_id: int, reason: str, by_user_id: int | None = None, now: datetime | None = None
) -> StreakRestore:
    """Undo a break (e.g. after an outage): the lost length is added back to the current run.

    If the last break is not restored yet, current becomes its length plus the run since.
    If the streak has lapsed but no completion has recorded the break yet, the gap is
    bridged (last completed moves to the previous day/week) so the next completion continues.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("a restore needs a reason", errors={"reason": "is required"})
    now = now or timezone.now()
    with transaction.atomic():
        streak = Streak.objects.select_for_update().filter(pk=streak_id).first()
        if streak is None:
            raise NotFound(f"streak {streak_id} does not exist")
        previous = streak.current
        last_break = streak.breaks.filter(restored_at__isnull=True).first()
        today = streak_unit(streak.kind, now, schedule_for(streak.user_id))
        previous_unit = today - unit_step(streak.kind)
        if last_break is not None and (
            streak.last_completed is None or last_break.missed_from <= streak.last_completed
        ):
            streak.current = last_break.length + streak.current
            last_break.restored_at = now
            last_break.save(update_fields=["restored_at"])
        elif streak.last_completed is not None and streak.last_completed < previous_unit:
            last_break = None
            streak.last_completed = previous_unit
        else:
            raise Conflict(f"streak {streak_id} is not broken; nothing to restore")
        streak.best = max(streak.best, streak.current)
        streak.save(update_fields=["current", "best", "last_completed", "updated_at"])
        return StreakRestore.objects.create(
            streak=streak,
            restored_break=last_break,
            previous_current=previous,
            new_current=streak.current,
            reason=reason,
            restored_by_id=by_user_id,
        )


KIND_FOR_PERIOD: dict[str, str] = {
    PeriodType.DAILY: StreakKind.DAILY,
    PeriodType.WEEKLY: StreakKind.WEEKLY,
}


def counted_completions() -> QuerySet[ActiveMission]:
    """The completions a streak counts: daily and weekly missions the player completed
    (claimed ones included). A competitive mission is ranked at period end, not completed
    by the player in a day, so it never counts."""
    return ActiveMission.objects.filter(
        period_type__in=list(KIND_FOR_PERIOD),
        state__in=[MissionState.COMPLETED, MissionState.CLAIMED],
        completed_at__isnull=False,
    ).exclude(template__type=MissionType.COMPETITIVE)


def pending_completions(since: datetime) -> QuerySet[ActiveMission]:
    """Counted completions since `since` that have no StreakCredit yet (the outbox)."""
    credited = StreakCredit.objects.filter(mission_id=OuterRef("pk"))
    return counted_completions().filter(completed_at__gte=since).exclude(Exists(credited))


def _outbox_window() -> timedelta:
    return timedelta(days=int(settings.STREAKS_OUTBOX_DAYS))


def streaks_credit_pending(*, user_id: int, since: datetime) -> int:
    """Count every uncredited completion of this player since `since`, oldest first, and
    credit each one; returns how many were counted. Called by the mission_completed
    receiver after each commit and by the sweep task, so a completion whose receiver never
    ran (the process died after the commit) still counts, and before any later one."""
    pending = pending_completions(since).filter(user_id=user_id)
    kinds = sorted({KIND_FOR_PERIOD[p] for p in pending.values_list("period_type", flat=True)})
    if not kinds:
        return 0
    schedule = schedule_for(user_id)
    with transaction.atomic():
        for kind in kinds:  # fixed order: two credits of one player never deadlock
            _locked_streak(user_id, kind)
        # Re-read under the locks: a concurrent credit may have taken some meanwhile.
        rows = list(
            pending.order_by("completed_at", "pk").values_list("pk", "period_type", "completed_at")
        )
        credits = []
        late: set[str] = set()
        for mission_id, period_type, completed_at in rows:
            assert completed_at is not None  # counted_completions filters on it
            kind = KIND_FOR_PERIOD[period_type]
            update = streak_record(user_id=user_id, kind=kind, at=completed_at, schedule=schedule)
            last = update.streak.last_completed
            unit = streak_unit(kind, completed_at, schedule)
            if not update.counted and last is not None and unit < last:
                late.add(kind)
            credits.append(
                StreakCredit(mission_id=mission_id, user_id=user_id, kind=kind, unit=unit)
            )
        StreakCredit.objects.bulk_create(credits)
        for kind in sorted(late):
            _streak_rebuild(user_id=user_id, kind=kind, schedule=schedule)
    return len(credits)


def _streak_rebuild(*, user_id: int, kind: str, schedule: Schedule) -> None:
    """A completion of a day (week) older than the last counted one — a late event that
    completed yesterday's mission after today's was counted — counts too (SPEC.md: a day
    counts when the player completes a daily mission). streak_record only extends a run
    forward, so the run is rebuilt from every counted completion and the days freezes
    covered, exactly as replay rebuilds it (streaks/replay.py), under the streak's lock.
    A freeze spent on a day that turns out completed stays spent. A streak an admin restored
    is left alone, as replay leaves it: a restore is a deliberate edit."""
    from .replay import rebuild  # imported here: replay imports this module

    streak = _locked_streak(user_id, kind)
    if StreakRestore.objects.filter(streak=streak).exists():
        return
    period_types = [p for p, k in KIND_FOR_PERIOD.items() if k == kind]
    units = [
        streak_unit(kind, completed_at, schedule)
        for completed_at in counted_completions()
        .filter(user_id=user_id, period_type__in=period_types)
        .values_list("completed_at", flat=True)
        if completed_at is not None
    ]
    used = StreakFreezeUse.objects.filter(streak=streak).values_list("covered_day", flat=True)
    frozen = set(used)
    want = rebuild(kind, units, frozen, schedule)
    have = list(streak.breaks.order_by("missed_from", "id").values_list("missed_from", "length"))
    if (streak.current, streak.best, streak.last_completed, have) == (
        want.current, want.best, want.last_completed, want.breaks
    ):  # fmt: skip
        return
    streak.breaks.all().delete()
    StreakBreak.objects.bulk_create(
        [StreakBreak(streak=streak, missed_from=day, length=n) for day, n in want.breaks]
    )
    streak.current, streak.best = want.current, want.best
    streak.last_completed = want.last_completed
    streak.save(update_fields=["current", "best", "last_completed", "updated_at"])
    streak_updated.send(
        sender=Streak, user_id=user_id, kind=kind, update=StreakUpdate(streak=streak, counted=True)
    )


def streaks_credit_all_pending(*, now: datetime) -> int:
    """The sweep: credit every player with an uncredited completion in the outbox window."""
    users = (
        pending_completions(now - _outbox_window())
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )
    return sum(
        streaks_credit_pending(user_id=user_id, since=now - _outbox_window())
        for user_id in list(users)
    )
