"""A player's timezone: load schedules in one query, change a zone (player API, profile page,
host platform: `missions.set_timezone`).

A change never moves the start of a period in progress: it takes effect at that period's
end, and the period in progress runs until the new zone's first boundary at or after it
(missions/periods.py `schedule_change`; docs/missions.md, "Timezones"). So the stored
`period_end` of the player's current missions moves with it, here, in the same transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone as django_timezone

from ..cache import player_cache_bump
from ..errors import ValidationFailed
from ..evaluators import MissionRun
from ..models import DRAWN_PERIOD_TYPES, ActiveMission, MissionType, PeriodType, PlayerProfile
from ..periods import UTC_SCHEDULE, Schedule, schedule_change, zone_validate


def schedules_for(user_ids: Sequence[int]) -> dict[int, Schedule]:
    """Each player's schedule (UTC for a player without a profile or a zone): one query."""
    out = dict.fromkeys(user_ids, UTC_SCHEDULE)
    rows = PlayerProfile.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "timezone", "timezone_history"
    )
    for user_id, zone, history in rows:
        if zone != "UTC" or history:
            out[user_id] = Schedule.of(zone, history)
    return out


def schedules_attach(runs: Mapping[int, MissionRun]) -> None:
    """Give the streak requirements of these runs their players' schedules (a streak counts
    the player's local days); the other types do not look at it."""
    streaks = [run for run in runs.values() if run.mission_type == MissionType.STREAK]
    if not streaks:
        return
    schedules = schedules_for(sorted({run.user_id for run in streaks}))
    for run in streaks:
        for progress in run.progress.values():
            progress.schedule = schedules[run.user_id]


def schedule_for(user_id: int) -> Schedule:
    return schedules_for([user_id])[user_id]


def rollover_due_at(schedule: Schedule, now: datetime) -> datetime:
    """When the first of the player's current drawn periods ends (their next rollover)."""
    ends = [schedule.period(pt, now).end for pt in DRAWN_PERIOD_TYPES]
    return min(end for end in ends if end is not None)


def player_timezone_set(
    *, user_id: int, timezone: object, now: datetime | None = None
) -> PlayerProfile:
    """Set the player's IANA zone. Raises ValidationFailed (field `timezone`) for a bad name.

    Takes effect from the next period; the current periods keep their start and their
    missions' stored ends move to the new ends. Setting the zone in effect is a no-op;
    setting another one again before the day ends replaces the waiting change."""
    try:
        zone = zone_validate(timezone)
    except ValueError as error:
        raise ValidationFailed(f"timezone: {error}", errors={"timezone": [str(error)]}) from None
    now = now or django_timezone.now()
    with transaction.atomic():
        PlayerProfile.objects.bulk_create([PlayerProfile(user_id=user_id)], ignore_conflicts=True)
        profile = PlayerProfile.objects.select_for_update().get(user_id=user_id)
        before = Schedule.of(profile.timezone, profile.timezone_history)
        after = schedule_change(before, zone, now)
        if after == before:
            return profile
        profile.timezone = after.zone
        profile.timezone_history = after.as_json()
        fields = ["timezone", "timezone_history"]
        if profile.rollover_at is not None and profile.rollover_at > now:
            # Not due yet: the next rollover is the new end. (A player already due stays
            # due: the late rollover still assigns their current periods.)
            profile.rollover_at = rollover_due_at(after, now)
            fields.append("rollover_at")
        profile.save(update_fields=fields)
        for period_type in DRAWN_PERIOD_TYPES:
            period = after.period(period_type, now)
            # The period in progress keeps its start (schedule_change), so its missions are
            # found by it; only their end moves.
            ActiveMission.objects.filter(
                user_id=user_id, period_type=period_type, period_start=period.start
            ).exclude(period_end=period.end).update(period_end=period.end)
        player_cache_bump(user_ids={user_id})
        # The lazy-assignment mark remembers the old periods' ends: forget it.
        transaction.on_commit(lambda: _forget_assigned(user_id))
    return profile


def _forget_assigned(user_id: int) -> None:
    from .assignment import _assigned_cache_key  # assignment imports this module

    with contextlib.suppress(Exception):  # Redis down: the mark expires within the hour
        cache.delete(_assigned_cache_key(user_id))


def player_timezone_state(*, user_id: int, now: datetime) -> dict[str, object]:
    """What the API and the profile page show: the chosen zone, the zone the current day
    runs in, when the chosen one takes over (None: already) and the current day's bounds."""
    schedule = schedule_for(user_id)
    day = schedule.period(PeriodType.DAILY, now)
    return {
        "timezone": schedule.zone,
        "current_timezone": schedule.zone_at(day.start),
        "takes_effect_at": day.end if schedule.zone_at(day.start) != schedule.zone else None,
        "day_start": day.start,
        "day_end": day.end,
    }
