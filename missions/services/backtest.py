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

import itertools
import json
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL

from ..evaluators import EventRecord, MissionRun, ProgressState
from ..evaluators.base import ACTIVE, COMPLETED
from ..models import Event, MissionType, PeriodType, PlayerProfile
from ..periods import Period, period_for
from .progress import fold
from .snapshots import log_horizon

CHUNK = 20_000
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


def _new_run(run_id: int, user_id: int, template: Mapping[str, Any], period: Period) -> MissionRun:
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
            key: ProgressState(key=key, action=req["action"], target=Decimal(str(req["target"])))
            for key, req in requirements.items()
        },
    )


def _population(
    template: Mapping[str, Any], start: datetime, end: datetime, sample: int | None
) -> list[int]:
    """Players active in the window (any event) whose level the template admits."""
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
    ordered = sorted(users)
    if sample is not None and sample < len(ordered):
        ordered = sorted(random.Random(0).sample(ordered, sample))
    return ordered


def _percentage(run: MissionRun) -> int:
    parts = [min(Decimal(1), p.current / p.target) for p in run.progress.values() if p.target > 0]
    return int(sum(parts) * 100 / len(parts)) if parts else 0


def _bucket(percentage: int) -> str:
    for low, high, label in BUCKETS:
        if low <= percentage <= high:
            return label
    return BUCKETS[-1][2]


def _events(
    template: Mapping[str, Any], start: datetime, end: datetime, users: list[int], sampled: bool
) -> Iterable[list[EventRecord]]:
    """The template's events in log order, CHUNK at a time, through a server-side cursor and
    without the ORM's per-row objects; `data` is only read when a requirement looks at it."""
    requirements = template["requirements"].values()
    actions = sorted({req["action"] for req in requirements})
    needs_data = any(req.get("where") or req.get("field") for req in requirements)
    rows = Event.objects.filter(
        action__in=actions,
        occurred_at__gte=start,
        occurred_at__lt=end,
        received_at__gte=start - ARRIVAL_SLACK,
    )
    if sampled:
        rows = rows.filter(user_id__in=users)
    columns = ["id", "user_id", "action", "occurred_at", "received_at"]
    micros = connection.vendor == "postgresql"
    if micros:
        # Exact microseconds since the epoch as integers: loading them is far cheaper than
        # parsing timestamptz text row by row.
        rows = rows.annotate(
            o_us=RawSQL("(EXTRACT(EPOCH FROM occurred_at) * 1000000)::bigint", []),
            r_us=RawSQL("(EXTRACT(EPOCH FROM received_at) * 1000000)::bigint", []),
        )
        columns[3:5] = ["o_us", "r_us"]
    if needs_data:
        columns.append("data")
    sql, params = rows.order_by("id").values_list(*columns).query.sql_with_params()
    to_time = _from_micros if micros else _aware
    wanted = set(users)
    no_data: Mapping[str, Any] = {}
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            chunk = cursor.fetchmany(CHUNK)
            if not chunk:
                return
            batch = []
            for row in chunk:
                if row[1] not in wanted:
                    continue
                data = row[5] if needs_data else no_data
                if isinstance(data, str):  # SQLite hands JSON back as text
                    data = json.loads(data)
                batch.append(
                    EventRecord(
                        seq=row[0],
                        event_id="",
                        user_id=row[1],
                        action=row[2],
                        occurred_at=to_time(row[3]),
                        received_at=to_time(row[4]),
                        data=data or no_data,
                    )
                )
            yield batch


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


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
    started = time.perf_counter()
    end = now
    start = now - timedelta(days=days)
    result = Backtest(days=days, start=start, end=end)
    horizon = log_horizon()
    if horizon is not None and horizon > start:
        result.log_starts = horizon
    periods = periods_in(template, start, end)
    users = _population(template, start, end, sample)
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
    for chunk in _events(template, start, end, users, sampled=sample is not None):
        result.events_read += len(chunk)
        touched: dict[int, MissionRun] = {}
        for event in chunk:
            if single is not None:
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
                run = runs[key] = _new_run(next(ids), event.user_id, template, period)
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
