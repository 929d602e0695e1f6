"""The one way in for events: `events_ingest`, behind `missions.track`, the `track_event`
signal and `POST /api/v1/events`.

An event is validated against the action catalog, stored in the event log (a repeated id is
a duplicate and changes nothing), then applied to progress in the same transaction.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from .. import metrics
from ..catalog import action_definitions
from ..errors import ValidationFailed
from ..evaluators import EventRecord
from ..event_validation import CleanEvent, Rejection, event_clean
from ..models import Event, EventKey, PeriodType
from ..periods import period_for
from .assignment import _assigned_cache_key, missions_assign
from .progress import progress_apply
from .templates import templates_version

# Namespace of the per-user advisory lock that orders ingestion per user.
LOCK_NAMESPACE = 7_201


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    # ids of missions completed by this batch
    completed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [r.as_dict() for r in self.rejected],
        }


def _assign_lazily(events: Sequence[CleanEvent], now: datetime) -> None:
    """Assign missions to users the rollover has not reached yet, so a first event counts.

    Missions are assigned as of the event's time; an event whose day closed (plus the late
    grace) before it arrived can no longer count for that day, so it assigns the current
    periods instead of opening missions in the past.
    """
    grace = timedelta(minutes=settings.MISSIONS_LATE_EVENT_GRACE_MINUTES)
    first: dict[tuple[int, str], datetime] = {}
    for event in events:
        instant = min(event.occurred_at, now)
        day_end = period_for(PeriodType.DAILY, instant).end
        if day_end is not None and day_end + grace <= now:
            instant = now
        key = (event.user_id, instant.strftime("%Y%m%d"))
        if key not in first or instant < first[key]:
            first[key] = instant
    try:
        version = templates_version()  # one read for the batch, not one per user
        keys = {
            pair: _assigned_cache_key(pair[0], instant, version) for pair, instant in first.items()
        }
        known = cache.get_many(list(keys.values()))
    except Exception:  # Redis down: the cache is a shortcut; assignment itself is idempotent
        keys = {pair: "" for pair in first}
        known = {}
    by_day: dict[str, list[int]] = defaultdict(list)
    day_instant: dict[str, datetime] = {}
    for (user_id, day), cache_key in keys.items():
        if known.get(cache_key):
            continue
        by_day[day].append(user_id)
        instant = first[(user_id, day)]
        day_instant[day] = min(day_instant.get(day, instant), instant)
    for day, user_ids in sorted(by_day.items()):
        missions_assign(user_ids=sorted(user_ids), now=day_instant[day])
    if by_day:
        done = {keys[(u, d)]: True for d, users in by_day.items() for u in users}
        # After the commit: a rolled-back batch must not mark its users as assigned.
        transaction.on_commit(lambda: _mark_assigned(done))


def _mark_assigned(done: dict[str, bool]) -> None:
    with contextlib.suppress(Exception):  # a lost cache entry only costs a re-check
        cache.set_many({key: value for key, value in done.items() if key}, timeout=3600)


def _lock_users(user_ids: Sequence[int]) -> datetime:
    """Per-user transaction locks, taken in id order (no deadlocks): events of one user are
    stored and applied one batch at a time, so log order is application order.

    Returns the database clock once the locks are held: one clock for every app server, so
    a user's arrival times (received_at) grow with log order."""
    if connection.vendor != "postgresql":
        return timezone.now()  # SQLite (the embedded dev default) has one writer anyway
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(t) FROM (SELECT pg_advisory_xact_lock(%s, u), clock_timestamp() AS t "
            "FROM (SELECT unnest(%s::int[]) AS u ORDER BY 1) AS users) AS locked",
            [LOCK_NAMESPACE, sorted(user_ids)],
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] else timezone.now()


def _store(events: Sequence[CleanEvent], now: datetime) -> dict[str, int]:
    """Insert into the log; returns event_id -> seq for the new ones (repeats are skipped).

    One statement: the ids go into the dedupe table (EventKey, unique, outside the monthly
    partitions) and only those it took go into the log, so a repeat is caught whichever month
    holds the first copy. Seqs are drawn in batch order (log order is application order), but
    keys are inserted in event_id order: two batches that share ids for different users
    (different user locks) then wait on each other's unique-index entries in one order, never
    in a cycle (deadlock).
    """
    if connection.vendor != "postgresql":
        return _store_portable(events, now)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH batch AS (
                SELECT u.*, nextval(pg_get_serial_sequence('missions_event', 'id')) AS seq
                FROM unnest(%s::text[], %s::int[], %s::text[], %s::timestamptz[], %s::jsonb[])
                     WITH ORDINALITY AS u(event_id, user_id, action, occurred_at, data, n)
                ORDER BY u.n
            ), fresh AS (
                INSERT INTO missions_eventkey (event_id, received_at)
                SELECT event_id, %s FROM batch ORDER BY event_id
                ON CONFLICT (event_id) DO NOTHING
                RETURNING event_id
            )
            INSERT INTO missions_event
                (id, event_id, user_id, action, occurred_at, data, received_at)
            SELECT b.seq, b.event_id, b.user_id, b.action, b.occurred_at, b.data, %s
            FROM batch AS b JOIN fresh USING (event_id)
            RETURNING id, event_id
            """,
            [
                [e.event_id for e in events],
                [e.user_id for e in events],
                [e.action for e in events],
                [e.occurred_at for e in events],
                [json.dumps(e.data) for e in events],
                now,
                now,
            ],
        )
        return {event_id: seq for seq, event_id in cursor.fetchall()}


def _store_portable(events: Sequence[CleanEvent], now: datetime) -> dict[str, int]:
    """The same for SQLite: a concurrent insert of the same id fails the batch (retry-safe)."""
    seen = set(
        EventKey.objects.filter(event_id__in=[e.event_id for e in events]).values_list(
            "event_id", flat=True
        )
    )
    fresh = [e for e in events if e.event_id not in seen]
    EventKey.objects.bulk_create([EventKey(event_id=e.event_id, received_at=now) for e in fresh])
    created = Event.objects.bulk_create(
        [
            Event(
                event_id=e.event_id,
                user_id=e.user_id,
                action=e.action,
                occurred_at=e.occurred_at,
                data=e.data,
                received_at=now,
            )
            for e in fresh
        ]
    )
    return {event.event_id: event.pk for event in created}


def events_ingest(*, events: Sequence[Any], now: datetime | None = None) -> IngestResult:
    """Validate, store and apply a batch. Good events are kept even when others are rejected;
    an id already in the log (or earlier in the batch) is a duplicate and changes nothing.

    `now` is the arrival time (received_at); tests pin it, otherwise it is read once the
    users' locks are held, so a user's arrival times grow in log order.
    """
    started = time.perf_counter()
    clock = now or timezone.now()
    catalog = action_definitions()
    result = IngestResult()
    cleaned: list[CleanEvent] = []
    for index, raw in enumerate(events):
        outcome = event_clean(index, raw, catalog=catalog, now=clock)
        if isinstance(outcome, Rejection):
            result.rejected.append(outcome)
        else:
            cleaned.append(outcome)
    if cleaned:
        User = get_user_model()
        existing = set(
            User.objects.filter(pk__in={e.user_id for e in cleaned}).values_list("pk", flat=True)
        )
        unknown = [e for e in cleaned if e.user_id not in existing]
        for event in unknown:
            result.rejected.append(
                Rejection(event.index, event.event_id, {"user_id": ["no such user"]})
            )
        cleaned = [e for e in cleaned if e.user_id in existing]
    result.rejected.sort(key=lambda r: r.index)
    unique: list[CleanEvent] = []
    seen: set[str] = set()
    for event in cleaned:
        if event.event_id in seen:
            result.duplicates += 1
        else:
            seen.add(event.event_id)
            unique.append(event)
    if not unique:
        _record(result, started)
        return result
    with transaction.atomic():
        # Lock first: assignment inside the lock cannot deadlock against another batch's
        # row locks on the same user's missions.
        locked_at = _lock_users(sorted({e.user_id for e in unique}))
        received = now or locked_at
        stored = _store(unique, received)
        # Only events that are new assign missions: a re-sent event changes nothing.
        _assign_lazily([e for e in unique if e.event_id in stored], received)
        result.accepted = len(stored)
        result.duplicates += len(unique) - len(stored)
        records = [
            EventRecord(
                seq=stored[e.event_id],
                event_id=e.event_id,
                user_id=e.user_id,
                action=e.action,
                occurred_at=e.occurred_at,
                received_at=received,
                data=e.data,
            )
            for e in unique
            if e.event_id in stored
        ]
        applied = progress_apply(events=records)
        result.completed = applied.completed
        _record(result, started)
    return result


def _record(result: IngestResult, started: float) -> None:
    """Count the call once it is committed (at once when no transaction is open)."""
    accepted, duplicates, rejected = result.accepted, result.duplicates, len(result.rejected)
    transaction.on_commit(
        lambda: metrics.ingest_recorded(
            accepted=accepted, duplicates=duplicates, rejected=rejected, started=started
        )
    )


def track(
    user: Any,
    action: str,
    data: Mapping[str, Any] | None = None,
    *,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
) -> str:
    """In-process door: returns "accepted" or "duplicate"; raises ValidationFailed."""
    user_id = user if isinstance(user, int) else getattr(user, "pk", None)
    raw: dict[str, Any] = {
        "id": event_id if event_id is not None else str(uuid.uuid4()),
        "user_id": user_id,
        "action": action,
        "data": dict(data or {}),
    }
    if occurred_at is not None:
        raw["occurred_at"] = occurred_at
    result = events_ingest(events=[raw])
    if result.rejected:
        rejection = result.rejected[0]
        raise ValidationFailed(f"event {action!r} was rejected", errors=rejection.errors)
    return "accepted" if result.accepted else "duplicate"
