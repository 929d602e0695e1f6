"""Period instances: half-open [start, end) intervals, in each player's own timezone.

daily = the player's local day; weekly = the local ISO week from Monday 00:00; monthly = the
local calendar month; special = the template's [starts_at, ends_at) (absolute instants, the
same for everyone); perpetual = [PERPETUAL_START, never). A player who never set a timezone
lives in UTC.

Boundaries are local midnights turned into aware instants through zoneinfo (never "start +
24 h"), so a 23- or 25-hour DST day is one day, and a midnight that a DST jump skips or
repeats is the first instant of that local date.

A player's `Schedule` is the list of zones they lived in, each governing from the instant it
took effect (`Epoch.since`, per period type). The boundaries of a period type are, for each
epoch, that zone's boundaries at or after the epoch's `since` and before the next epoch's.
A change takes effect at the end of the period in progress (`schedule_change`): the period
in progress keeps its start and runs until the new zone's first boundary at or after that
instant — one longer period, never a short extra one (docs/missions.md, "Timezones").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .models import PERPETUAL_START, PeriodType

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .models import MissionTemplate

DEFAULT_ZONE = "UTC"
LOCAL_PERIOD_TYPES = (PeriodType.DAILY, PeriodType.WEEKLY, PeriodType.MONTHLY)
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Period:
    period_type: str
    start: datetime
    end: datetime | None  # None: never ends

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant and (self.end is None or instant < self.end)


# -- zones ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def timezone_names() -> frozenset[str]:
    """Every IANA name this system's tz database knows (the choices of the profile field)."""
    return frozenset(available_timezones() | {DEFAULT_ZONE})


def zone_validate(name: object) -> str:
    """The IANA zone name, or ValueError saying why not (the API maps it to a 400)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("must be an IANA timezone name such as 'Europe/Paris'")
    name = name.strip()
    if name not in timezone_names():
        raise ValueError(f"{name!r} is not an IANA timezone name (e.g. 'Asia/Tokyo', 'UTC')")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA timezone name") from None
    return name


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: periods need timezone-aware instants")
    return instant.astimezone(UTC)


def local_midnight(zone: ZoneInfo, day: date) -> datetime:
    """The first instant (UTC) whose local date in `zone` is `day`.

    Usually 00:00 local; where a DST jump skips midnight it is the jump itself, and where
    midnight happens twice (a fall-back at 00:00) the first 00:00 of that date."""
    candidates = []
    for fold in (0, 1):
        instant = datetime.combine(day, time(0), tzinfo=zone).replace(fold=fold).astimezone(UTC)
        if instant.astimezone(zone).date() == day:
            candidates.append(instant)
    if not candidates:  # not reachable with the tz database; never guess silently
        raise ValueError(f"no midnight for {day} in {zone.key}")
    return min(candidates)


# -- what one period type looks like in one zone --------------------------------------------


def _label(period_type: str, day: date) -> date:
    """The local date that names the period containing `day`: itself, its week's Monday, or
    the first of its month."""
    if period_type == PeriodType.WEEKLY:
        return day - timedelta(days=day.weekday())
    if period_type == PeriodType.MONTHLY:
        return day.replace(day=1)
    return day


def _next_label(period_type: str, label: date) -> date:
    if period_type == PeriodType.WEEKLY:
        return label + timedelta(days=7)
    if period_type == PeriodType.MONTHLY:
        return (
            label.replace(year=label.year + 1, month=1)
            if label.month == 12
            else label.replace(month=label.month + 1)
        )
    return label + timedelta(days=1)


def _index(period_type: str, label: date) -> int:
    """Labels as consecutive integers (days, weeks or months)."""
    if period_type == PeriodType.WEEKLY:
        return (label.toordinal() - 1) // 7  # date.min (ordinal 1) is a Monday
    if period_type == PeriodType.MONTHLY:
        return label.year * 12 + label.month - 1
    return label.toordinal()


def _from_index(period_type: str, index: int) -> date:
    if period_type == PeriodType.WEEKLY:
        return date.fromordinal(index * 7 + 1)
    if period_type == PeriodType.MONTHLY:
        return date(index // 12, index % 12 + 1, 1)
    return date.fromordinal(index)


def _local_bounds(period_type: str, zone: ZoneInfo, instant: datetime) -> tuple[datetime, datetime]:
    label = _label(period_type, instant.astimezone(zone).date())
    return local_midnight(zone, label), local_midnight(zone, _next_label(period_type, label))


def _local_label(period_type: str, zone: ZoneInfo, boundary: datetime) -> date:
    return _label(period_type, boundary.astimezone(zone).date())


# -- a player's schedule -------------------------------------------------------------------


@dataclass(frozen=True)
class Epoch:
    """A zone and, per period type, the instant from which its boundaries count (None: the
    first epoch, always)."""

    zone: str
    since: dict[str, datetime] = field(default_factory=dict)

    def since_of(self, period_type: str) -> datetime | None:
        return self.since.get(period_type)

    def as_json(self) -> dict[str, Any]:
        return {"zone": self.zone, **{k: v.isoformat() for k, v in self.since.items()}}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Epoch:
        since = {
            str(pt): datetime.fromisoformat(str(raw[pt])).astimezone(UTC)
            for pt in LOCAL_PERIOD_TYPES
            if raw.get(pt)
        }
        return cls(zone=str(raw["zone"]), since=since)


@dataclass(frozen=True)
class Schedule:
    """The zones a player lived in, oldest first; the first epoch has no `since`."""

    epochs: tuple[Epoch, ...] = (Epoch(DEFAULT_ZONE),)

    # -- construction --
    @classmethod
    def of(
        cls, zone: str = DEFAULT_ZONE, history: Sequence[dict[str, Any]] | None = None
    ) -> Schedule:
        """From a profile's `timezone` and `timezone_history` (empty: `zone` always)."""
        if not history:
            return cls((Epoch(zone or DEFAULT_ZONE),))
        return cls(tuple(Epoch.from_json(raw) for raw in history))

    def as_json(self) -> list[dict[str, Any]]:
        return [] if len(self.epochs) == 1 else [e.as_json() for e in self.epochs]

    @property
    def key(self) -> str:
        """Equal for equal schedules: players sharing a key share every period."""
        if len(self.epochs) == 1:
            return self.zone
        return json.dumps(self.as_json(), sort_keys=True)

    @property
    def zone(self) -> str:
        """The latest chosen zone (it may still be waiting for the period in progress to end)."""
        return self.epochs[-1].zone

    def zone_at(self, instant: datetime, period_type: str = PeriodType.DAILY) -> str:
        """The zone whose boundaries govern `instant` for `period_type`."""
        return self.epochs[self._epoch_index(period_type, _utc(instant))].zone

    def pending_since(self, now: datetime) -> datetime | None:
        """When the latest change takes effect for daily periods, if that is after `now`."""
        since = self.epochs[-1].since_of(PeriodType.DAILY)
        return since if since is not None and since > now else None

    # -- boundaries --
    def _epoch_index(self, period_type: str, instant: datetime) -> int:
        index = 0
        for i, epoch in enumerate(self.epochs[1:], start=1):
            since = epoch.since_of(period_type)
            if since is not None and since <= instant:
                index = i
        return index

    def _zone(self, i: int) -> ZoneInfo:
        return ZoneInfo(self.epochs[i].zone)

    def _last_at_or_before(self, period_type: str, instant: datetime) -> datetime:
        i = self._epoch_index(period_type, instant)
        while True:
            start, _ = _local_bounds(period_type, self._zone(i), instant)
            since = self.epochs[i].since_of(period_type)
            if i == 0 or since is None or start >= since:
                return start
            # No boundary of this epoch yet: the last one is the previous epochs' before `since`.
            instant = since - _TICK
            i = self._epoch_index(period_type, instant)

    def _settle(self, period_type: str, i: int, boundary: datetime) -> datetime:
        """`boundary` (of epoch i) if it comes before the next epoch, else the first boundary
        of the later epochs at or after their `since`."""
        while i + 1 < len(self.epochs):
            since = self.epochs[i + 1].since_of(period_type)
            if since is None or boundary < since:
                break
            i += 1
            start, end = _local_bounds(period_type, self._zone(i), since)
            boundary = start if start == since else end
        return boundary

    def _first_after(self, period_type: str, instant: datetime) -> datetime:
        i = self._epoch_index(period_type, instant)
        _, end = _local_bounds(period_type, self._zone(i), instant)
        return self._settle(period_type, i, end)

    def period(self, period_type: str, instant: datetime) -> Period:
        at = _utc(instant)
        return Period(
            period_type,
            self._last_at_or_before(period_type, at),
            self._first_after(period_type, at),
        )

    # -- labels --
    def _transitions(self, period_type: str) -> tuple[list[int], set[int]]:
        """Per epoch, the shift (in days, weeks or months) added to its local labels, and the
        label indexes no period has (skipped).

        Labels are the local dates. Going east, the transitional period spans more than one
        local date, so the dates after its own are skipped: no period has them, and a streak
        does not count them as missed. Going west by a day or more (over the date line), the
        new zone's first date can repeat one already lived: its labels are shifted forward
        just enough to keep them increasing (so a repeated date is a new day, never "already
        counted"), and the shift returns to zero as soon as a later change allows."""
        shifts = [0]
        skipped: set[int] = set()
        for i in range(1, len(self.epochs)):
            since = self.epochs[i].since_of(period_type)
            shifts.append(0)
            if since is None:
                continue
            start, end = _local_bounds(period_type, self._zone(i), since)
            first = start if start == since else end
            nxt = self.epochs[i + 1].since_of(period_type) if i + 1 < len(self.epochs) else None
            if nxt is not None and first >= nxt:
                continue  # this epoch has no boundary of its own
            previous = self._last_at_or_before(period_type, first - _TICK)
            j = self._epoch_index(period_type, previous)
            previous_label = (
                _index(period_type, _local_label(period_type, self._zone(j), previous)) + shifts[j]
            )
            own = _index(period_type, _local_label(period_type, self._zone(i), first))
            shifts[i] = max(0, previous_label + 1 - own)
            skipped.update(range(previous_label + 1, own + shifts[i]))
        return shifts, skipped

    def skipped_labels(self, period_type: str) -> frozenset[date]:
        """Local dates (weeks' Mondays) that no period of this player has: the dates a change
        to a zone further east jumped over. A streak never counts them as missed."""
        if len(self.epochs) == 1:
            return frozenset()
        _, skipped = self._transitions(period_type)
        return frozenset(_from_index(period_type, index) for index in skipped)

    def label(self, period_type: str, instant: datetime) -> date:
        """The name of the period containing `instant`: its local date (daily), its Monday
        (weekly) or its first day (monthly). Labels of consecutive periods always increase:
        by one, or by more across the dates a change east skipped (`skipped_labels`)."""
        start = self._last_at_or_before(period_type, _utc(instant))
        i = self._epoch_index(period_type, start)
        own = _index(period_type, _local_label(period_type, self._zone(i), start))
        shift = self._transitions(period_type)[0][i] if len(self.epochs) > 1 else 0
        return _from_index(period_type, own + shift)


UTC_SCHEDULE = Schedule()


def schedule_change(schedule: Schedule, zone: str, now: datetime) -> Schedule:
    """The schedule after the player picks `zone` at `now`: it governs from the end of each
    period type's period in progress.

    - A change still waiting for today's end is replaced (changing one's mind twice in a day
      is one change; picking the zone in effect again cancels it).
    - Daily: the day in progress runs until the new zone's first midnight at or after its
      old end, so it only grows (by less than a day) and never a second day starts early.
    - Weekly / monthly: the period in progress ends at the new zone's boundary with the same
      local date as its old end when that is still ahead (it moves by the zones' offset
      difference, under 27 hours), else at the new zone's next one.
    """
    zone = zone_validate(zone)
    now = _utc(now)
    base = schedule
    if len(schedule.epochs) > 1 and schedule.pending_since(now) is not None:
        base = Schedule(schedule.epochs[:-1])
    if base.zone == zone:
        return base
    previous = base.epochs[-1]
    new_zone = ZoneInfo(zone)
    since: dict[str, datetime] = {}
    for period_type in LOCAL_PERIOD_TYPES:
        end = base.period(period_type, now).end
        assert end is not None  # local periods always end
        effective = end
        if period_type != PeriodType.DAILY:
            j = base._epoch_index(period_type, end)
            same_date = local_midnight(new_zone, end.astimezone(base._zone(j)).date())
            if same_date > now:
                effective = min(same_date, end)
        earlier = previous.since_of(period_type)
        since[str(period_type)] = max(effective, earlier) if earlier is not None else effective
    return Schedule((*base.epochs, Epoch(zone, since)))


# -- the engine's entry points --------------------------------------------------------------


def period_for(
    period_type: str,
    instant: datetime,
    template: MissionTemplate | None = None,
    *,
    schedule: Schedule | None = None,
) -> Period:
    """The period of `period_type` that contains `instant` for a player living on
    `schedule` (default: UTC)."""
    at = _utc(instant)
    if period_type in LOCAL_PERIOD_TYPES:
        return (schedule or UTC_SCHEDULE).period(period_type, at)
    if period_type == PeriodType.SPECIAL:
        if template is None or template.starts_at is None or template.ends_at is None:
            raise ValueError("a special period needs a template with starts_at and ends_at")
        return Period(period_type, _utc(template.starts_at), _utc(template.ends_at))
    if period_type == PeriodType.PERPETUAL:
        return Period(period_type, PERPETUAL_START, None)
    raise ValueError(f"unknown period type {period_type!r}")


def next_reset(
    period_type: str, instant: datetime, *, schedule: Schedule | None = None
) -> datetime | None:
    """When the player's drawn periods roll over next (None for special and perpetual)."""
    if period_type in (PeriodType.SPECIAL, PeriodType.PERPETUAL):
        return None
    return period_for(period_type, instant, schedule=schedule).end
