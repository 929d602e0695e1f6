"""Rebuild streaks from the completions and compare them with the stored ones (run by
`manage.py replay_events` through the replay-check registry of missions.services.replay).

A streak is a function of the completed daily (weekly) missions, in order, and of the days
freezes covered: walking the counted days from the oldest, a day right after the last one
continues the run, a gap fully covered by freezes continues it, any other gap breaks it.
Streaks an admin restored are skipped (a restore is a deliberate edit, not a replayable
fact) and reported as such.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from missions.periods import Schedule
from missions.services.timezones import schedules_for

from .models import Streak, StreakBreak, StreakFreezeUse, StreakKind, StreakRestore
from .services import KIND_FOR_PERIOD, counted_completions
from .units import missed_units, streak_unit


@dataclass
class RebuiltStreak:
    current: int = 0
    best: int = 0
    last_completed: date | None = None
    breaks: list[tuple[date, int]] = field(default_factory=list)


def rebuild(
    kind: str, units: Sequence[date], frozen: set[date], schedule: Schedule | None = None
) -> RebuiltStreak:
    out = RebuiltStreak()
    for unit in sorted(set(units)):
        last = out.last_completed
        if last is None:
            out.current = 1
        else:
            missed = missed_units(kind, last, unit, schedule)
            if not missed or (kind == StreakKind.DAILY and set(missed) <= frozen):
                out.current += 1
            else:
                out.breaks.append((missed[0], out.current))
                out.current = 1
        out.best = max(out.best, out.current)
        out.last_completed = unit
    return out


def streak_differences(user_ids: Sequence[int]) -> list[str]:
    """Every stored streak of these players that its rebuild disagrees with."""
    units: dict[tuple[int, str], list[date]] = defaultdict(list)
    schedules = schedules_for(user_ids)
    for user_id, period_type, completed_at in (
        counted_completions()
        .filter(user_id__in=user_ids)
        .values_list("user_id", "period_type", "completed_at")
    ):
        assert completed_at is not None  # counted_completions filters on it
        kind = KIND_FOR_PERIOD[period_type]
        units[(user_id, kind)].append(streak_unit(kind, completed_at, schedules[user_id]))
    stored = {(s.user_id, s.kind): s for s in Streak.objects.filter(user_id__in=user_ids)}
    restored = set(
        StreakRestore.objects.filter(streak__user_id__in=user_ids).values_list(
            "streak__user_id", "streak__kind"
        )
    )
    frozen: dict[int, set[date]] = defaultdict(set)
    for user_id, day in StreakFreezeUse.objects.filter(streak__user_id__in=user_ids).values_list(
        "streak__user_id", "covered_day"
    ):
        frozen[user_id].add(day)
    breaks: dict[tuple[int, str], list[tuple[date, int]]] = defaultdict(list)
    for user_id, kind_of_break, missed_from, length in (
        StreakBreak.objects.filter(streak__user_id__in=user_ids)
        .order_by("missed_from", "id")
        .values_list("streak__user_id", "streak__kind", "missed_from", "length")
    ):
        breaks[(user_id, kind_of_break)].append((missed_from, length))
    problems = []
    for key in sorted(set(units) | set(stored)):
        if key in restored:
            continue
        user_id, kind_name = key
        want = rebuild(kind_name, units.get(key, []), frozen[user_id], schedules[user_id])
        have = stored.get(key)
        got = (
            (have.current, have.best, have.last_completed, breaks[key])
            if have
            else (0, 0, None, [])
        )
        expected = (want.current, want.best, want.last_completed, want.breaks)
        if got != expected:
            problems.append(
                f"user {user_id} {kind_name} streak: stored current={got[0]} best={got[1]} "
                f"last={got[2]} breaks={len(got[3])}, rebuilt current={expected[0]} "
                f"best={expected[1]} last={expected[2]} breaks={len(expected[3])}"
            )
    return problems
