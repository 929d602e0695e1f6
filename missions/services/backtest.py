"""Backtest ("Test mission"): run an unsaved template over the recorded events of the last N
days, with the production fold, and never write anything.

Every eligible player (by level) who sent any event in the window is assumed to get the
template at the start of each of its periods in the window (`assigned_at = period start`).
Events are read in log order, in chunks, only for the template's actions; each chunk goes
through `progress.fold` — the same evaluators and late-event rule as live ingestion — via
`_fold`, the one adapter to change when the fold's signature moves. Prerequisites,
cooldowns and the weighted draw are not simulated: the figures are for players who get it.

It reads only the events still in the log: once months have left it (docs/events.md "The log
over years"), a window that reaches back past the log's horizon sees only the events that
arrived since, and the result says so (`log_starts`). The log is partitioned by arrival
time, so the reads also bound `received_at` from below (an event arrives at most the clock
skew before it happened) and Postgres scans only the months since the window's start.
"""

from __future__ import annotations

import gc
import itertools
import json
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, DateTimeField
from django.db.models.expressions import RawSQL

from ..evaluators import EventRecord, MissionRun, ProgressState
from ..evaluators.base import ACTIVE, COMPLETED
from ..evaluators.matching import as_decimal
from ..models import Event, MissionType, PeriodType, PlayerProfile
from ..periods import LOCAL_PERIOD_TYPES, UTC_SCHEDULE, Period, Schedule, period_for
from .progress import fold
from .snapshots import log_horizon
from .timezones import schedules_for

CHUNK = 50_000
# An event that happened at t arrived after t - FUTURE_SKEW (5 minutes, validation); a day of
# slack covers app servers whose clocks disagree with the database's.
ARRIVAL_SLACK = timedelta(days=1)
BUCKETS = (
    (0, 0, "0 %"),
    (1, 24, "1–24 %"),
    (25, 49, "25–49 %"),
    (50, 74, "50–74 %"),
    (75, 99, "75–99 %"),
)


@dataclass
class Backtest:
    days: int
    start: datetime
    end: datetime
    players: int = 0
    periods: int = 0
    runs: int = 0
    completed: int = 0
    failed: int = 0
    events_read: int = 0
    seconds: float = 0.0
    minutes_to_complete: list[float] = field(default_factory=list)
    completions_by_day: dict[str, int] = field(default_factory=dict)
    not_finished: dict[str, int] = field(default_factory=dict)
    xp_total: int = 0
    # The log's horizon when it is inside the window: events that arrived before it are gone.
    log_starts: datetime | None = None
    dgt_total: Decimal = Decimal(0)
    # (user_id, period_start) -> the folded run; kept for tests and the per-player view
    outcomes: dict[tuple[int, datetime], MissionRun] = field(default_factory=dict)

    @property
    def completion_rate(self) -> float:
        return self.completed / self.runs if self.runs else 0.0

    @property
    def median_minutes(self) -> float | None:
        return statistics.median(self.minutes_to_complete) if self.minutes_to_complete else None

    @property
    def completions_per_day(self) -> float:
        return self.completed / self.days if self.days else 0.0

    @property
    def xp_per_day(self) -> Decimal:
        return (Decimal(self.xp_total) / self.days).quantize(Decimal("0.01"))

    @property
    def dgt_per_day(self) -> Decimal:
        return (self.dgt_total / self.days).quantize(Decimal("0.00000001"))


def _fold(runs: dict[int, MissionRun], events: list[EventRecord]) -> None:
    """The adapter to the production fold (missions/services/progress.py)."""
    fold(runs, events)


def periods_in(template: Mapping[str, Any], start: datetime, end: datetime) -> list[Period]:
    """The template's period instances that overlap [start, end)."""
    period_type = template["period_type"]
    if period_type == PeriodType.PERPETUAL:
        return [period_for(PeriodType.PERPETUAL, start)]
    if period_type == PeriodType.SPECIAL:
        starts, ends = template.get("starts_at"), template.get("ends_at")
        if starts is None or ends is None or ends <= start or starts >= end:
            return []
        return [Period(PeriodType.SPECIAL, starts, ends)]
    out: list[Period] = []
    instant = start
    while instant < end:
        period = period_for(period_type, instant)
        out.append(period)
        assert period.end is not None
        instant = period.end
    return out


def _new_run(
    run_id: int,
    user_id: int,
    template: Mapping[str, Any],
    period: Period,
    schedule: Schedule | None = None,
) -> MissionRun:
    requirements = template["requirements"]
    return MissionRun(
        mission_id=run_id,
        user_id=user_id,
        template_key=template.get("key") or "draft",
        mission_type=template["type"],
        requirements=requirements,
        metadata=template.get("metadata") or {},
        period_start=period.start,
        period_end=period.end,
        assigned_at=period.start,
        state=ACTIVE,
        completed_at=None,
        progress={
            key: ProgressState(
                key=key,
                action=req["action"],
                target=Decimal(str(req["target"])),
                schedule=schedule,  # a streak counts the player's local days
            )
            for key, req in requirements.items()
        },
    )


def _population(
    template: Mapping[str, Any], start: datetime, end: datetime, sample: int | None
) -> tuple[list[int], bool]:
    """Players active in the window (any event) whose level the template admits, and whether
    that is fewer than all active players (then only their events are read)."""
    active = Event.objects.filter(
        occurred_at__gte=start, occurred_at__lt=end, received_at__gte=start - ARRIVAL_SLACK
    )
    users = set(active.values_list("user_id", flat=True).distinct().order_by())
    min_level, max_level = template.get("min_level") or 1, template.get("max_level")
    if min_level > 1 or max_level is not None:
        levels = dict(
            PlayerProfile.objects.filter(user_id__in=active.values("user_id")).values_list(
                "user_id", "level"
            )
        )
        users = {
            u
            for u in users
            if min_level <= levels.get(u, 1)
            and (max_level is None or levels.get(u, 1) <= max_level)
        }
    restricted = min_level > 1 or max_level is not None
    ordered = sorted(users)
    if sample is not None and sample < len(ordered):
        ordered = sorted(random.Random(0).sample(ordered, sample))
        restricted = True
    return ordered, restricted


def _percentage(run: MissionRun) -> int:
    parts = [min(Decimal(1), p.current / p.target) for p in run.progress.values() if p.target > 0]
    return int(sum(parts) * 100 / len(parts)) if parts else 0


def _bucket(percentage: int) -> str:
    for low, high, label in BUCKETS:
        if low <= percentage <= high:
            return label
    return BUCKETS[-1][2]


def _prefilter(requirements: Iterable[Mapping[str, Any]]) -> tuple[str, list[Any]] | None:
    """A SQL condition (Postgres) that keeps every event some requirement can match, and
    fewer when a requirement's `where` has conditions SQL decides exactly as `matching.py`:
    `eq`/`in` on non-numeric text (only that exact string matches) and `gt`/`gte`/`lt`/`lte`
    on a number (JSON numbers compared as exact numerics; JSON strings are all kept and left
    to the fold, which parses them). It only narrows what is read: the fold still decides
    each event, so the filter may keep too much but never drops a match. None: no narrowing.
    """
    by_action: dict[str, list[tuple[str, list[Any]]]] = defaultdict(list)
    unfiltered: set[str] = set()
    for req in requirements:
        action = str(req["action"])
        parts: list[str] = []
        params: list[Any] = []
        for name, condition in (req.get("where") or {}).items():
            for op, operand in condition.items():
                text = isinstance(operand, str) and as_decimal(operand) is None
                if op == "eq" and text:
                    parts.append("data->>%s = %s")
                    params += [name, operand]
                elif (
                    op == "in"
                    and isinstance(operand, list)
                    and operand
                    and all(isinstance(o, str) and as_decimal(o) is None for o in operand)
                ):
                    parts.append("data->>%s = ANY(%s)")
                    params += [name, list(operand)]
                elif op in COMPARISONS and as_decimal(operand) is not None:
                    # CASE fixes the evaluation order: the cast only ever sees a JSON number.
                    parts.append(
                        "CASE jsonb_typeof(data->%s) WHEN 'string' THEN true "
                        f"WHEN 'number' THEN (data->>%s)::numeric {COMPARISONS[op]} %s "
                        "ELSE false END"
                    )
                    params += [name, name, as_decimal(operand)]
        if not parts:
            unfiltered.add(action)
        else:
            by_action[action].append((" AND ".join(parts), params))
    if not by_action or set(by_action) <= unfiltered:
        return None
    clauses: list[str] = []
    values: list[Any] = []
    if unfiltered:
        clauses.append("action = ANY(%s)")
        values.append(sorted(unfiltered))
    for action, filters in sorted(by_action.items()):
        if action in unfiltered:
            continue
        clauses.append("(action = %s AND (" + " OR ".join(f"({sql})" for sql, _ in filters) + "))")
        values.append(action)
        for _, more in filters:
            values += more
    return "(" + " OR ".join(clauses) + ")", values


COMPARISONS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _events(
    template: Mapping[str, Any],
    start: datetime,
    end: datetime,
    users: list[int],
    *,
    restrict: bool,
) -> Iterable[list[EventRecord]]:
    """The template's events in log order, CHUNK at a time, through a server-side cursor as
    plain tuples (no model objects): only its actions, narrowed by `_prefilter`, only the
    `users` when `restrict` (a sample or a level range), `data` only when a requirement
    reads it. On Postgres the rows come in the binary protocol, so ids and timestamps are
    decoded in C (a third of the time of text rows), and received_at only when it differs
    from occurred_at (most events arrive in the microsecond they happen)."""
    requirements = list(template["requirements"].values())
    actions = sorted({req["action"] for req in requirements})
    needs_data = any(req.get("where") or req.get("field") for req in requirements)
    rows = Event.objects.filter(
        action__in=actions,
        occurred_at__gte=start,
        occurred_at__lt=end,
        received_at__gte=start - ARRIVAL_SLACK,
    )
    if restrict:
        rows = rows.filter(user_id__in=users)
    columns = ["id", "user_id", "action", "occurred_at", "received_at"]
    postgres = connection.vendor == "postgresql"
    if postgres:
        narrowing = _prefilter(requirements)
        if narrowing is not None:
            rows = rows.filter(RawSQL(narrowing[0], narrowing[1], output_field=BooleanField()))
        rows = rows.annotate(
            r_at=RawSQL(
                "CASE WHEN received_at = occurred_at THEN NULL ELSE received_at END",
                [],
                output_field=DateTimeField(),
            )
        )
        columns[4] = "r_at"
    if needs_data:
        columns.append("data")
    sql, params = rows.order_by("id").values_list(*columns).query.sql_with_params()
    no_data: Mapping[str, Any] = {}
    record = EventRecord
    with _cursor(postgres) as cursor:
        cursor.execute(sql, params)
        if postgres and connection.queries_logged:  # psycopg's own cursor: log it as Django would
            connection.queries_log.append({"sql": f"DECLARE CURSOR FOR {sql}", "time": "0"})
        while chunk := cursor.fetchmany(CHUNK):
            batch: list[EventRecord] = []
            append = batch.append
            for row in chunk:
                if postgres:
                    occurred = row[3]
                    received = occurred if row[4] is None else row[4]
                else:
                    occurred, received = _aware(row[3]), _aware(row[4])
                data = row[5] if needs_data else no_data
                if isinstance(data, str):  # SQLite hands JSON back as text
                    data = json.loads(data)
                append(record(row[0], "", row[1], row[2], occurred, received, data or no_data))
            yield batch


@contextmanager
def _cursor(postgres: bool) -> Iterator[Any]:
    """A server-side cursor. On Postgres psycopg's own, in the binary format (Django's cursors
    bind client-side, which returns text only), inside a transaction so that each FETCH is a
    statement of its own (a WITH HOLD cursor would read everything in its DECLARE)."""
    if not postgres:
        with connection.chunked_cursor() as cursor:
            yield cursor
        return
    with transaction.atomic():
        connection.ensure_connection()
        name = f"backtest_{next(_cursor_ids)}"
        with connection.connection.cursor(name=name, binary=True) as cursor:
            yield cursor


_cursor_ids = itertools.count(1)


def _aware(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _tier_payouts(template: Mapping[str, Any], runs: Iterable[MissionRun]) -> tuple[int, Decimal]:
    """A competitive template pays its tiers at each period's end: rank by score (ties by who
    reached it first), only players who scored."""
    tiers = (template.get("metadata") or {}).get("reward_tiers") or []
    by_period: dict[datetime, list[MissionRun]] = defaultdict(list)
    for run in runs:
        by_period[run.period_start].append(run)
    xp, dgt = 0, Decimal(0)
    for group in by_period.values():
        scored = []
        for run in group:
            score = sum((p.current for p in run.progress.values()), Decimal(0))
            if score > 0:
                reached = max(p.reached_at for p in run.progress.values() if p.reached_at)
                scored.append((-score, reached, run.user_id))
        scored.sort()
        previous = 0
        for tier in tiers:
            winners = len(scored[previous : tier["rank_to"]])
            xp += winners * int(tier["rewards"].get("xp") or 0)
            dgt += winners * Decimal(str(tier["rewards"].get("dgt") or 0))
            previous = tier["rank_to"]
    return xp, dgt


def template_backtest(
    *, template: Mapping[str, Any], days: int, now: datetime, sample: int | None = None
) -> Backtest:
    """`template` is validated template JSON (validate_template's output); nothing is saved."""
    # Hundreds of thousands of small acyclic objects (events, runs, progress): the cyclic
    # collector would rescan them all again and again while they are built, for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _backtest(template=template, days=days, now=now, sample=sample)
    finally:
        if collecting:
            gc.enable()


def _backtest(
    *, template: Mapping[str, Any], days: int, now: datetime, sample: int | None
) -> Backtest:
    started = time.perf_counter()
    end = now
    start = now - timedelta(days=days)
    result = Backtest(days=days, start=start, end=end)
    horizon = log_horizon()
    if horizon is not None and horizon > start:
        result.log_starts = horizon
    periods = periods_in(template, start, end)
    users, restricted = _population(template, start, end, sample)
    result.players, result.periods = len(users), len(periods)
    result.runs = len(users) * len(periods)
    if not periods or not users:
        result.seconds = time.perf_counter() - started
        return result
    period_type = template["period_type"]
    single = periods[0] if len(periods) == 1 else None
    by_start = {p.start: p for p in periods}
    runs: dict[tuple[int, datetime], MissionRun] = {}
    ids = itertools.count(1)
    day_period: dict[Any, Period] = {}
    # Players on another timezone than UTC live in their own local periods (one query).
    local = {}
    if period_type in LOCAL_PERIOD_TYPES:
        local = {u: s for u, s in schedules_for(users).items() if s != UTC_SCHEDULE}
    for chunk in _events(template, start, end, users, restrict=restricted):
        result.events_read += len(chunk)
        touched: dict[int, MissionRun] = {}
        for event in chunk:
            schedule = local.get(event.user_id) if local else None
            if schedule is not None:
                period = schedule.period(period_type, event.occurred_at)
                if period.end is not None and period.end <= start or period.start >= end:
                    continue
            elif single is not None:
                period = single
            else:
                day = event.occurred_at.date()
                period = day_period.get(day) or day_period.setdefault(
                    day, period_for(period_type, event.occurred_at)
                )
                if period.start not in by_start:
                    continue
            key = (event.user_id, period.start)
            run = runs.get(key)
            if run is None:
                run = runs[key] = _new_run(next(ids), event.user_id, template, period, schedule)
            touched[run.mission_id] = run
        _fold(touched, chunk)
    result.outcomes = runs
    rewards = template.get("rewards") or {}
    unit_xp, unit_dgt = int(rewards.get("xp") or 0), Decimal(str(rewards.get("dgt") or 0))
    by_day: dict[str, int] = defaultdict(int)
    not_finished: dict[str, int] = {label: 0 for _, _, label in BUCKETS}
    for run in runs.values():
        if run.state == COMPLETED and run.completed_at is not None:
            result.completed += 1
            result.minutes_to_complete.append(
                (run.completed_at - run.assigned_at).total_seconds() / 60
            )
            by_day[run.completed_at.date().isoformat()] += 1
        else:
            result.failed += int(run.state != ACTIVE)
            not_finished[_bucket(_percentage(run))] += 1
    # players with no matching event in a period never moved: 0 %
    not_finished[BUCKETS[0][2]] += result.runs - len(runs)
    result.not_finished = not_finished
    result.completions_by_day = dict(sorted(by_day.items()))
    if template["type"] == MissionType.COMPETITIVE:
        result.xp_total, result.dgt_total = _tier_payouts(template, runs.values())
    else:
        result.xp_total = unit_xp * result.completed
        result.dgt_total = unit_dgt * result.completed
    result.seconds = time.perf_counter() - started
    return result
