"""Assignment: which missions each player gets for each period instance.

Set-based: a chunk of users costs a fixed number of queries whatever its size. The weighted
draw is seeded by (user, period), so running it again assigns the same missions.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q

from ..cache import player_cache_bump, player_cache_bump_all
from ..models import (
    DRAWN_PERIOD_TYPES,
    ActiveMission,
    MissionProgress,
    MissionState,
    MissionTemplate,
    MissionType,
    PeriodType,
    PlayerProfile,
)
from ..periods import DEFAULT_ZONE, UTC_SCHEDULE, Period, Schedule, period_for
from ..signals import missions_assigned
from .templates import templates_version
from .timezones import schedule_for

# What prerequisites read from the apps above the engine (badges: rewards; the daily streak:
# streaks). Each app registers its source in its AppConfig.ready, so the engine imports neither.
# A source takes user ids and returns (user_id, value) pairs.
PrerequisiteSource = Callable[[Sequence[int]], Iterable[tuple[int, Any]]]
_prerequisite_sources: dict[str, PrerequisiteSource] = {}


def prerequisite_source_register(name: str, source: PrerequisiteSource) -> None:
    """`badges` → (user_id, badge key) pairs; `daily_streak` → (user_id, current length);
    `excluded_templates` (optional) → (user_id, template id) pairs the player must not get."""
    _prerequisite_sources[name] = source


def _prerequisite_source(name: str) -> PrerequisiteSource:
    try:
        return _prerequisite_sources[name]
    except KeyError:
        raise LookupError(
            f"no prerequisite source {name!r} registered (its app's AppConfig.ready registers it)"
        ) from None


@dataclass
class PlayerContext:
    """What eligibility needs to know about one player."""

    level: int = 1
    completed_keys: set[str] = field(default_factory=set)
    badge_keys: set[str] = field(default_factory=set)
    daily_streak: int = 0
    # template ids the player may not get yet because of their cooldown
    cooling_down: set[int] = field(default_factory=set)
    # template ids withheld from this player by an app above the engine (A/B variants)
    excluded: set[int] = field(default_factory=set)
    # their timezone schedule and their current local periods (drawn types and perpetual)
    schedule: Schedule = UTC_SCHEDULE
    periods: dict[str, Period] = field(default_factory=dict)
    # whether their profile exists yet (assignment creates a missing one with the defaults)
    has_profile: bool = False


def is_eligible(template: MissionTemplate, player: PlayerContext) -> bool:
    if not template.is_active:
        return False
    if player.level < template.min_level:
        return False
    # A null max_level means no cap (the sketch's lte(maxLevel, level) dropped these).
    if template.max_level is not None and player.level > template.max_level:
        return False
    pre = template.prerequisites or {}
    if not set(pre.get("missions_completed") or ()).issubset(player.completed_keys):
        return False
    if not set(pre.get("badges") or ()).issubset(player.badge_keys):
        return False
    if player.daily_streak < int(pre.get("min_streak") or 0):
        return False
    return template.id not in player.cooling_down and template.id not in player.excluded


def enough_time_left(template: MissionTemplate, period: Period, now: datetime) -> bool:
    """The assignment policy: hand a mission out only while at least `min_remaining_percent`
    of its period remains (the template's metadata, else MISSIONS_MIN_REMAINING_PERCENT for its
    period type; perpetual missions never end)."""
    if period.end is None:
        return True
    percent = (template.metadata or {}).get("min_remaining_percent")
    if percent is None:
        percent = settings.MISSIONS_MIN_REMAINING_PERCENT.get(template.period_type, 0)
    return (period.end - now) * 100 >= (period.end - period.start) * int(percent)


def draw_seed(user_id: int, period: Period) -> int:
    digest = hashlib.sha256(f"{user_id}:{period.period_type}:{period.start.isoformat()}".encode())
    return int.from_bytes(digest.digest()[:8], "big")


def weighted_draw(templates: Sequence[MissionTemplate], k: int, seed: int) -> list[MissionTemplate]:
    """k templates by weight without replacement (Efraimidis–Spirakis), deterministic in seed."""
    rng = random.Random(seed)
    keyed = []
    for template in sorted(templates, key=lambda t: t.key):
        u = rng.random()
        if template.weight > 0:
            keyed.append((u ** (1.0 / template.weight), template.key, template))
    keyed.sort(key=lambda entry: (-entry[0], entry[1]))
    return [template for _, _, template in keyed[:k]]


def _active_templates(now: datetime) -> list[MissionTemplate]:
    window = Q(period_type=PeriodType.SPECIAL, starts_at__lte=now, ends_at__gt=now)
    others = ~Q(period_type=PeriodType.SPECIAL)
    return list(
        MissionTemplate.objects.filter(Q(is_active=True) & (window | others)).order_by("key")
    )


def _utc_periods(now: datetime) -> dict[str, Period]:
    return {str(pt): period_for(pt, now) for pt in (*DRAWN_PERIOD_TYPES, PeriodType.PERPETUAL)}


def _player_contexts(
    user_ids: Sequence[int], templates: Sequence[MissionTemplate], now: datetime
) -> dict[int, PlayerContext]:
    contexts = {user_id: PlayerContext() for user_id in user_ids}
    utc = _utc_periods(now)
    local: dict[tuple[str, str], dict[str, Period]] = {}  # players sharing a zone share periods
    for user_id, level, zone, history in PlayerProfile.objects.filter(
        user_id__in=user_ids
    ).values_list("user_id", "level", "timezone", "timezone_history"):
        context = contexts[user_id]
        context.has_profile = True
        context.level = level
        if zone != DEFAULT_ZONE or history:
            context.schedule = Schedule.of(zone, history)
            memo = (zone, json.dumps(history, sort_keys=True))
            if memo not in local:
                local[memo] = {
                    str(pt): context.schedule.period(pt, now) for pt in DRAWN_PERIOD_TYPES
                }
                local[memo][PeriodType.PERPETUAL] = utc[PeriodType.PERPETUAL]
            context.periods = local[memo]
    for context in contexts.values():
        if not context.periods:
            context.periods = utc
    needs_completed = any((t.prerequisites or {}).get("missions_completed") for t in templates)
    needs_badges = any((t.prerequisites or {}).get("badges") for t in templates)
    needs_streak = any((t.prerequisites or {}).get("min_streak") for t in templates)
    if needs_completed:
        rows = (
            ActiveMission.objects.filter(user_id__in=user_ids, completed_at__isnull=False)
            .values_list("user_id", "template__key")
            .distinct()
        )
        for user_id, key in rows:
            contexts[user_id].completed_keys.add(key)
    if needs_badges:
        for user_id, key in _prerequisite_source("badges")(user_ids):
            contexts[user_id].badge_keys.add(key)
    if needs_streak:
        for user_id, current in _prerequisite_source("daily_streak")(user_ids):
            contexts[user_id].daily_streak = current
    cooling = [t for t in templates if t.cooldown_hours and t.period_type in utc]
    if cooling:
        # An earlier assignment blocks the template until its period ended `cooldown_hours` ago
        # (each player's own current period: one condition per template and distinct start).
        condition = Q()
        for template in cooling:
            shared = _shared_period(template, now)
            by_start: dict[datetime, list[int]] = defaultdict(list)
            for user_id, context in contexts.items():
                by_start[_period_of(template, context, shared).start].append(user_id)
            for start, group in by_start.items():
                condition |= Q(
                    template_id=template.id,
                    user_id__in=group,
                    period_start__lt=start,
                    period_end__gt=start - timedelta(hours=template.cooldown_hours or 0),
                )
        cooling_rows = ActiveMission.objects.filter(condition, user_id__in=user_ids).values_list(
            "user_id", "template_id"
        )
        for user_id, template_id in cooling_rows:
            contexts[user_id].cooling_down.add(template_id)
    # Optional: (user_id, template_id) pairs to withhold, e.g. the variants of a running
    # experiment a player is not bucketed into (registered by analytics).
    exclusions = _prerequisite_sources.get("excluded_templates")
    if exclusions is not None:
        for user_id, template_id in exclusions(user_ids):
            contexts[user_id].excluded.add(template_id)
    return contexts


def _shared_period(template: MissionTemplate, now: datetime) -> Period | None:
    """The period every player shares for `template`: the UTC one of a competitive template
    (everyone on a leaderboard shares one period), the window of a special template; None
    when it is each player's own."""
    if template.period_type == PeriodType.SPECIAL:
        return period_for(PeriodType.SPECIAL, now, template)
    if template.type == MissionType.COMPETITIVE and template.period_type in DRAWN_PERIOD_TYPES:
        return period_for(template.period_type, now)
    return None


def _period_of(template: MissionTemplate, player: PlayerContext, shared: Period | None) -> Period:
    """The period `template` runs in for this player: `shared` (its _shared_period) when all
    players share one, else their local day, week or month, or the perpetual period."""
    return shared if shared is not None else player.periods[template.period_type]


def missions_assign(
    *,
    user_ids: Sequence[int],
    now: datetime,
    templates: Sequence[MissionTemplate] | None = None,
    bulk: bool = False,
) -> list[ActiveMission]:
    """Assign the current periods' missions to these users. Returns the new missions.

    A fixed number of queries per call, whatever len(user_ids). `bulk` (a rollover over
    every player) bumps one cache version for all players instead of one per player.
    """
    if not user_ids:
        return []
    if templates is None:
        templates = _active_templates(now)
    contexts = _player_contexts(user_ids, templates, now)
    missing = [user_id for user_id, context in contexts.items() if not context.has_profile]
    if missing:  # a new player: their profile with its defaults, which the context assumed
        PlayerProfile.objects.bulk_create(
            [PlayerProfile(user_id=user_id) for user_id in missing], ignore_conflicts=True
        )
    existing_templates: dict[int, set[int]] = defaultdict(set)
    existing_drawn: dict[int, set[str]] = defaultdict(set)

    # The missions the players already have for their current periods: one query, one
    # condition per distinct (period type, start) — one per UTC offset group — plus the UTC
    # periods of competitive templates and the special windows.
    groups: dict[tuple[str, datetime], list[int]] = defaultdict(list)
    for user_id, context in contexts.items():
        for period in context.periods.values():
            groups[(period.period_type, period.start)].append(user_id)
    current = Q()
    for (period_type, start), group in groups.items():
        current |= Q(period_type=period_type, period_start=start, user_id__in=group)
    utc = _utc_periods(now)
    for period_type in DRAWN_PERIOD_TYPES:
        current |= Q(
            period_type=period_type,
            period_start=utc[period_type].start,
            template__type=MissionType.COMPETITIVE,
        )
    current |= Q(
        period_type=PeriodType.SPECIAL,
        template_id__in=[t.id for t in templates if t.period_type == PeriodType.SPECIAL],
    )
    rows = ActiveMission.objects.filter(current, user_id__in=user_ids).values_list(
        "user_id", "template_id", "period_type", "period_start"
    )
    special_starts = {t.id: t.starts_at for t in templates if t.period_type == PeriodType.SPECIAL}
    for user_id, template_id, period_type, period_start in rows:
        if period_type == PeriodType.SPECIAL and special_starts.get(template_id) != period_start:
            continue
        existing_templates[user_id].add(template_id)
        existing_drawn[user_id].add(period_type)

    by_period: dict[str, list[MissionTemplate]] = defaultdict(list)
    for template in templates:
        by_period[template.period_type].append(template)
    # Per call, not per player: the shared periods, and the time-left check per period.
    shared = {t.id: _shared_period(t, now) for t in templates}
    time_left: dict[tuple[int, datetime, datetime | None], bool] = {}

    def open_to(template: MissionTemplate, player: PlayerContext) -> bool:
        if not is_eligible(template, player):
            return False
        period = _period_of(template, player, shared[template.id])
        key = (template.id, period.start, period.end)
        if key not in time_left:
            time_left[key] = enough_time_left(template, period, now)
        return time_left[key]

    new: list[NewMission] = []
    for user_id in user_ids:
        player = contexts[user_id]
        chosen: list[MissionTemplate] = []
        for period_type in DRAWN_PERIOD_TYPES:
            if period_type in existing_drawn[user_id]:
                continue  # already drawn for this period: re-running is a no-op
            period = player.periods[period_type]
            eligible = [t for t in by_period[period_type] if open_to(t, player)]
            count = settings.MISSIONS_PER_PERIOD.get(period_type, 0)
            chosen += weighted_draw(eligible, count, draw_seed(user_id, period))
        for period_type in (PeriodType.SPECIAL, PeriodType.PERPETUAL):
            chosen += [
                t
                for t in by_period[period_type]
                if t.id not in existing_templates[user_id] and open_to(t, player)
            ]
        for template in chosen:
            period = _period_of(template, player, shared[template.id])
            new.append(NewMission(user_id, template, period.start, period.end))
    if not new:
        return []
    with transaction.atomic():
        created = missions_insert(rows=new, now=now)
        transaction.on_commit(
            lambda: missions_assigned.send(sender=ActiveMission, missions=created)
        )
        if bulk:
            player_cache_bump_all()  # one version key instead of one per player
        else:
            player_cache_bump(user_ids={m.user_id for m in created})
    return created


class NewMission(NamedTuple):
    """A mission to insert: the assignment's draw decided it, the insert step writes it."""

    user_id: int
    template: MissionTemplate
    period_start: datetime
    period_end: datetime | None


def missions_insert(*, rows: Sequence[NewMission], now: datetime) -> list[ActiveMission]:
    """Insert these missions (state active, assigned at `now`) with a progress row per
    requirement; a mission the player already has for that period is left as it is.
    Returns the missions this call created.

    Postgres: one statement for everything. SQLite (`make run` without DATABASE_URL):
    two bulk inserts through the ORM. Model objects are built only for what was created."""
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _insert_sql(rows, now)
    return _insert_orm(rows, now)


# The fields of an ActiveMission in model order, for building the ones just inserted the way
# Django builds them from a query (positional: a rollover builds hundreds of thousands).
_MISSION_FIELDS = [f.attname for f in ActiveMission._meta.concrete_fields]
_MISSION_DEFAULTS = {f.attname: f.get_default() for f in ActiveMission._meta.concrete_fields}
_MISSION_TEMPLATE = ActiveMission._meta.get_field("template")


def _inserted(row: NewMission, pk: int, now: datetime) -> ActiveMission:
    values = {
        "id": pk,
        "template_id": row.template.id,
        "user_id": row.user_id,
        "period_type": row.template.period_type,
        "period_start": row.period_start,
        "period_end": row.period_end,
        "assigned_at": now,
        "state": MissionState.ACTIVE,
    }
    mission = ActiveMission.from_db(
        "default", _MISSION_FIELDS, [values.get(n, _MISSION_DEFAULTS[n]) for n in _MISSION_FIELDS]
    )
    _MISSION_TEMPLATE.set_cached_value(mission, row.template)
    return mission


def _built(row: NewMission, now: datetime) -> ActiveMission:
    return ActiveMission(
        template=row.template,
        user_id=row.user_id,
        period_type=row.template.period_type,
        period_start=row.period_start,
        period_end=row.period_end,
        assigned_at=now,
    )


# One statement inserts the missions and their progress rows from arrays; a concurrent lazy
# assignment may have inserted some of the same missions, and those are left as they are.
_INSERT_SQL = """
WITH new AS (
    SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::timestamptz[],
                         %s::timestamptz[]) AS n(user_id, template_id, period_type,
                                                 period_start, period_end)
), ins AS (
    INSERT INTO {mission} (user_id, template_id, period_type, period_start, period_end,
                           assigned_at, state)
    SELECT user_id, template_id, period_type, period_start, period_end, %s, 'active' FROM new
    ON CONFLICT (user_id, template_id, period_start) DO NOTHING
    RETURNING id, user_id, template_id
), progress AS (
    INSERT INTO {progress} (mission_id, user_id, requirement_key, action, current, target)
    SELECT ins.id, ins.user_id, req.key, req.value->>'action', 0, (req.value->>'target')::numeric
    FROM ins
    JOIN {template} t ON t.id = ins.template_id
    CROSS JOIN LATERAL jsonb_each(t.requirements) AS req
)
SELECT id, user_id, template_id FROM ins
"""


def _insert_sql(rows: Sequence[NewMission], now: datetime) -> list[ActiveMission]:
    sql = _INSERT_SQL.format(
        mission=ActiveMission._meta.db_table,
        progress=MissionProgress._meta.db_table,
        template=MissionTemplate._meta.db_table,
    )
    params: list[Any] = [
        [r.user_id for r in rows],
        [r.template.id for r in rows],
        [r.template.period_type for r in rows],
        [r.period_start for r in rows],
        [r.period_end for r in rows],
        now,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = {(user_id, template_id): pk for pk, user_id, template_id in cursor.fetchall()}
    created = []
    for row in rows:
        pk = inserted.get((row.user_id, row.template.id))
        if pk is not None:
            created.append(_inserted(row, pk, now))
    return created


def _insert_orm(rows: Sequence[NewMission], now: datetime) -> list[ActiveMission]:
    """The same inserts through the ORM, for SQLite."""
    # update_conflicts (a no-op update) rather than ignore_conflicts: SQLite then returns
    # the ids of existing rows too, and the progress insert below skips theirs.
    created = ActiveMission.objects.bulk_create(
        [_built(row, now) for row in rows],
        update_conflicts=True,
        unique_fields=["user", "template", "period_start"],
        update_fields=["period_type"],
    )
    MissionProgress.objects.bulk_create(
        [
            MissionProgress(
                mission_id=mission.pk,
                user_id=mission.user_id,
                requirement_key=req_key,
                action=req["action"],
                target=req["target"],
            )
            for mission in created
            for req_key, req in mission.template.requirements.items()
        ],
        ignore_conflicts=True,
    )
    return created


def _assigned_cache_key(user_id: int, version: int | None = None) -> str:
    if version is None:
        version = templates_version()
    return f"missions:assigned:{user_id}:{version}"


def assigned_window(schedule: Schedule, instant: datetime) -> tuple[float, float]:
    """What the lazy-assignment cache remembers: the player's periods were assigned for
    `instant`, good from their day's start until the first of their drawn periods ends (as
    POSIX timestamps: the player's own midnight, not a UTC date, turns it stale)."""
    start = schedule.period(PeriodType.DAILY, instant).start
    ends = [schedule.period(pt, instant).end for pt in DRAWN_PERIOD_TYPES]
    return start.timestamp(), min(end for end in ends if end is not None).timestamp()


def assigned_covers(window: object, instant: datetime) -> bool:
    """Whether a remembered window (see assigned_window) covers `instant`."""
    if not isinstance(window, list | tuple) or len(window) != 2:
        return False
    return float(window[0]) <= instant.timestamp() < float(window[1])


def missions_assign_for_user(*, user_id: int, now: datetime) -> list[ActiveMission]:
    """Lazy assignment on first access: a late scheduler never shows an empty hub. Remembered
    in the cache until the player's next local midnight (one read when remembered)."""
    try:
        key = _assigned_cache_key(user_id)
        if assigned_covers(cache.get(key), now):
            return []
    except Exception:  # Redis down: the cache is a shortcut; assignment itself is idempotent
        key = ""
    created = missions_assign(user_ids=[user_id], now=now)
    if key:
        window = assigned_window(schedule_for(user_id), now)
        with contextlib.suppress(Exception):
            cache.set(key, window, timeout=3600)
    return created


def missions_assign_all(
    *,
    now: datetime,
    chunk_size: int = 2000,
    user_ids: Iterable[int] | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
) -> int:
    """Assign the current periods for every active user, chunk by chunk; returns missions made."""
    if user_ids is None:
        user_ids = (
            get_user_model()
            .objects.filter(is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    templates = _active_templates(now)
    total = 0
    chunk: list[int] = []

    def flush() -> None:
        nonlocal total
        created = missions_assign(user_ids=chunk, now=now, templates=templates, bulk=True)
        total += len(created)
        if on_chunk:
            on_chunk(len(chunk), len(created))
        chunk.clear()

    for user_id in (
        user_ids.iterator(chunk_size=chunk_size) if hasattr(user_ids, "iterator") else user_ids
    ):
        chunk.append(user_id)
        if len(chunk) >= chunk_size:
            flush()
    if chunk:
        flush()
    return total
