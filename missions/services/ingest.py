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
from ..catalog import CACHE_KEY as CATALOG_KEY
from ..catalog import ActionDef, action_definitions
from ..errors import ValidationFailed
from ..evaluators import EventRecord
from ..event_validation import CleanEvent, Rejection, event_clean
from ..models import Event, EventKey, PeriodType
from .assignment import (
    _assigned_cache_key,
    assigned_covers,
    assigned_window,
    missions_assign,
)
from .progress import progress_apply
from .templates import TEMPLATES_VERSION_KEY, templates_version
from .timezones import schedules_for

# Namespace of the per-user advisory lock that orders ingestion per user.
LOCK_NAMESPACE = 7_201


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    # ids of missions completed by this batch
    completed: list[int] = field(default_factory=list)
    # positions in the batch of the events stored by this call (group_commit splits by them)
    accepted_indexes: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [r.as_dict() for r in self.rejected],
        }


def _catalog_and_templates_version() -> tuple[dict[str, ActionDef], int | None]:
    """The action catalog and the templates version in one Redis round trip, not two."""
    try:
        found = cache.get_many([CATALOG_KEY, TEMPLATES_VERSION_KEY])
    except Exception:  # Redis down: each is read (or loaded) on its own
        found = {}
    version = found.get(TEMPLATES_VERSION_KEY)
    catalog = action_definitions(prefetched=found.get(CATALOG_KEY))
    return catalog, int(version) if version is not None else None


def _assign_lazily(events: Sequence[CleanEvent], now: datetime, version: int | None = None) -> None:
    """Assign missions to users the rollover has not reached yet, so a first event counts.

    Missions are assigned as of the event's time, in the player's own day (their timezone);
    an event whose day closed (plus the late grace) before it arrived can no longer count
    for that day, so it assigns the current periods instead of opening missions in the past.
    One cache read for the batch when every player is remembered (see assigned_window); the
    players' timezones are read (one query) only for those who are not.
    """
    grace = timedelta(minutes=settings.MISSIONS_LATE_EVENT_GRACE_MINUTES)
    instants: dict[int, set[datetime]] = defaultdict(set)
    for event in events:
        instants[event.user_id].add(min(event.occurred_at, now))
    try:
        if version is None:  # read with the catalog, once for the batch
            version = templates_version()
        keys = {user_id: _assigned_cache_key(user_id, version) for user_id in instants}
        known = cache.get_many(list(keys.values()))
    except Exception:  # Redis down: the cache is a shortcut; assignment itself is idempotent
        keys = dict.fromkeys(instants, "")
        known = {}
    pending = {
        user_id: sorted(i for i in times if not assigned_covers(known.get(keys[user_id]), i))
        for user_id, times in instants.items()
    }
    pending = {user_id: times for user_id, times in pending.items() if times}
    if not pending:
        return
    schedules = schedules_for(list(pending))
    # Players whose day starts at the same instant (one UTC offset group) are assigned
    # together, as of the earliest of their events in that day.
    by_day: dict[datetime, dict[int, datetime]] = defaultdict(dict)
    for user_id, times in pending.items():
        schedule = schedules[user_id]
        for instant in times:
            day = schedule.period(PeriodType.DAILY, instant)
            if day.end is not None and day.end + grace <= now:
                instant, day = now, schedule.period(PeriodType.DAILY, now)
            members = by_day[day.start]
            members[user_id] = min(members.get(user_id, instant), instant)
    done: dict[str, tuple[float, float]] = {}
    for _, members in sorted(by_day.items()):
        missions_assign(user_ids=sorted(members), now=min(members.values()))
        for user_id, instant in members.items():
            if keys[user_id]:
                done[keys[user_id]] = assigned_window(schedules[user_id], instant)
    if done:
        # After the commit: a rolled-back batch must not mark its users as assigned.
        transaction.on_commit(lambda: _mark_assigned(done))


def _mark_assigned(done: dict[str, tuple[float, float]]) -> None:
    with contextlib.suppress(Exception):  # a lost cache entry only costs a re-check
        cache.set_many({key: value for key, value in done.items() if key}, timeout=3600)


# Advisory locks take 32-bit keys, and user ids are 32-bit (auth_user.id): a larger id is no
# user of ours.
MAX_USER_ID = 2**31 - 1


def _lock_users(user_ids: Sequence[int]) -> tuple[datetime, set[int]]:
    """Per-user transaction locks, taken in id order (no deadlocks): events of one user are
    stored and applied one batch at a time, so log order is application order.

    Returns the database clock once the locks are held (one clock for every app server, so
    a user's arrival times, received_at, grow with log order) and which of these users
    exist, in the same statement."""
    wanted = sorted({u for u in user_ids if 0 < u <= MAX_USER_ID})
    if connection.vendor != "postgresql":
        # SQLite (the embedded dev default) has one writer anyway: no lock to take.
        existing = get_user_model().objects.filter(pk__in=wanted).values_list("pk", flat=True)
        return timezone.now(), set(existing)
    users = connection.ops.quote_name(get_user_model()._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(t), array_agg(u) FILTER (WHERE known) FROM ("
            "  SELECT u, pg_advisory_xact_lock(%s, u), clock_timestamp() AS t,"
            f"        EXISTS (SELECT 1 FROM {users} WHERE id = u) AS known"
            "  FROM (SELECT unnest(%s::int[]) AS u ORDER BY 1) AS wanted"
            ") AS locked",
            [LOCK_NAMESPACE, wanted],
        )
        row = cursor.fetchone()
    clock = row[0] if row and row[0] else timezone.now()
    return clock, set(row[1] or []) if row else set()


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
    catalog, version = _catalog_and_templates_version()
    result = IngestResult()
    cleaned: list[CleanEvent] = []
    for index, raw in enumerate(events):
        outcome = event_clean(index, raw, catalog=catalog, now=clock)
        if isinstance(outcome, Rejection):
            result.rejected.append(outcome)
        else:
            cleaned.append(outcome)
    if not cleaned:
        _record(result, started)
        return result
    with transaction.atomic():
        # Lock first, and learn which users exist in the same statement: assignment inside
        # the lock cannot deadlock against another batch's row locks on the same user's
        # missions.
        locked_at, existing = _lock_users([e.user_id for e in cleaned])
        for event in cleaned:
            if event.user_id not in existing:
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
        received = now or locked_at
        stored = _store(unique, received)
        # Only events that are new assign missions: a re-sent event changes nothing.
        _assign_lazily([e for e in unique if e.event_id in stored], received, version)
        result.accepted = len(stored)
        result.accepted_indexes = [e.index for e in unique if e.event_id in stored]
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
