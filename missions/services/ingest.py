"""The one way in for events: `events_ingest`, behind `missions.track`, the `track_event`
signal and `POST /api/v1/events`.

An event is validated against the action catalog, stored in the event log (a repeated id is
a duplicate and changes nothing), then applied to progress in the same transaction.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..catalog import ActionDef, action_definitions
from ..errors import ValidationFailed
from ..evaluators import EventRecord
from ..models import Event, PeriodType
from ..periods import period_for
from .assignment import _assigned_cache_key, missions_assign
from .progress import progress_apply
from .templates import templates_version

EVENT_KEYS = {"id", "user_id", "action", "occurred_at", "data"}
MAX_NUMBER = Decimal(10) ** 15
MAX_STRING = 1000
MAX_EVENT_ID = 200
# How far ahead of our clock a sender's occurred_at may be (clock skew).
FUTURE_SKEW = timedelta(minutes=5)
# Namespace of the per-user advisory lock that orders ingestion per user.
LOCK_NAMESPACE = 7_201


@dataclass(frozen=True)
class Rejection:
    index: int
    id: str | None
    errors: dict[str, list[str]]

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "errors": self.errors}


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


@dataclass(frozen=True)
class _Clean:
    index: int
    event_id: str
    user_id: int
    action: str
    occurred_at: datetime
    data: dict[str, Any]


def _number_error(value: Any, *, whole: bool) -> str | None:
    if isinstance(value, bool) or value is None:
        return "must be a whole number" if whole else "must be a number"
    if isinstance(value, float):
        return 'must be an integer or a decimal string such as "10.5", not a float'
    if whole and not isinstance(value, int):
        return f"must be a whole number, got {type(value).__name__}"
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str | Decimal):
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            return f"must be an integer or a decimal string, got {value!r}"
        if not number.is_finite():
            return f"must be a finite number, got {value!r}"
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > 8:
            return "has more than 8 decimal places"
    else:
        return f"must be a number, got {type(value).__name__}"
    if number < 0:
        return f"must not be negative, got {value}"
    if number > MAX_NUMBER:
        return f"must be at most {MAX_NUMBER}"
    return None


def _field_error(kind: str, value: Any) -> str | None:
    if kind == "int":
        return _number_error(value, whole=True)
    if kind == "number":
        return _number_error(value, whole=False)
    if kind == "bool":
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"
    if kind == "str":
        if not isinstance(value, str):
            return f"must be a string, got {type(value).__name__}"
        return None if len(value) <= MAX_STRING else f"must be at most {MAX_STRING} characters"
    return f"has an unknown catalog type {kind!r}"


def _clean_data(errors: dict[str, list[str]], data: Any, definition: ActionDef) -> dict[str, Any]:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        errors.setdefault("data", []).append("must be an object of data fields")
        return {}
    try:
        size = len(json.dumps(data, default=str).encode())
    except (TypeError, ValueError):
        errors.setdefault("data", []).append("must be JSON")
        return {}
    limit = settings.MISSIONS_MAX_EVENT_DATA_BYTES
    if size > limit:
        errors.setdefault("data", []).append(f"is {size} bytes; the limit is {limit}")
        return {}
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        kind = definition.fields.get(name)
        if kind is None:
            known = ", ".join(sorted(definition.fields)) or "none"
            errors.setdefault(f"data.{name}", []).append(
                f"is not a data field of this action (known: {known})"
            )
            continue
        problem = _field_error(kind, value)
        if problem:
            errors.setdefault(f"data.{name}", []).append(problem)
            continue
        cleaned[name] = str(value) if isinstance(value, Decimal) else value
    for name in definition.required:
        if name not in data:
            errors.setdefault(f"data.{name}", []).append("is required for this action")
    return cleaned


def _occurred_at(errors: dict[str, list[str]], raw: Any, now: datetime) -> datetime:
    if raw is None:
        return now
    instant = raw if isinstance(raw, datetime) else None
    if isinstance(raw, str):
        try:
            instant = parse_datetime(raw)
        except ValueError:
            instant = None
    if instant is None:
        errors.setdefault("occurred_at", []).append("must be an ISO-8601 date-time")
        return now
    if instant.tzinfo is None:
        errors.setdefault("occurred_at", []).append("must carry a timezone, e.g. Z or +00:00")
        return now
    instant = instant.astimezone(UTC)
    if instant > now + FUTURE_SKEW:
        errors.setdefault("occurred_at", []).append("is in the future")
    return instant


def event_clean(
    index: int, raw: Any, *, catalog: Mapping[str, ActionDef], now: datetime
) -> _Clean | Rejection:
    """Validate one raw event; errors are keyed by field and say what is wrong."""
    if not isinstance(raw, Mapping):
        return Rejection(index, None, {"event": ["must be an object"]})
    errors: dict[str, list[str]] = {}
    for unknown in sorted(set(raw) - EVENT_KEYS):
        errors.setdefault(str(unknown), []).append(
            "is not an event field (use " + ", ".join(sorted(EVENT_KEYS)) + ")"
        )
    event_id = raw.get("id")
    shown_id = event_id if isinstance(event_id, str) else None
    if not isinstance(event_id, str) or not event_id.strip():
        errors.setdefault("id", []).append("is required: the sender's unique event id (a string)")
    elif len(event_id) > MAX_EVENT_ID:
        errors.setdefault("id", []).append(f"must be at most {MAX_EVENT_ID} characters")
    user_id = raw.get("user_id")
    if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id <= 0:
        errors.setdefault("user_id", []).append("is required: a positive integer user id")
    action = raw.get("action")
    definition = catalog.get(action) if isinstance(action, str) else None
    if not isinstance(action, str) or not action:
        errors.setdefault("action", []).append('is required, e.g. "post:created"')
    elif definition is None:
        errors.setdefault("action", []).append(f"{action!r} is not in the action catalog")
    occurred_at = _occurred_at(errors, raw.get("occurred_at"), now)
    data = _clean_data(errors, raw.get("data"), definition) if definition else {}
    if errors:
        return Rejection(index, shown_id, errors)
    assert isinstance(event_id, str) and isinstance(user_id, int) and isinstance(action, str)
    return _Clean(index, event_id, user_id, action, occurred_at, data)


def _assign_lazily(events: Sequence[_Clean], now: datetime) -> None:
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


def _lock_users(user_ids: Sequence[int]) -> None:
    """Per-user transaction locks, taken in id order (no deadlocks): events of one user are
    stored and applied one batch at a time, so log order is application order."""
    if connection.vendor != "postgresql":
        return  # SQLite (the embedded dev default) has one writer at a time anyway
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, u) FROM "
            "(SELECT unnest(%s::int[]) AS u ORDER BY 1) AS users",
            [LOCK_NAMESPACE, sorted(user_ids)],
        )


def _store(events: Sequence[_Clean], now: datetime) -> dict[str, int]:
    """Insert into the log; returns event_id -> seq for the new ones (repeats are skipped)."""
    if connection.vendor != "postgresql":
        return _store_portable(events, now)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO missions_event (event_id, user_id, action, occurred_at, data, received_at)
            SELECT e.event_id, e.user_id, e.action, e.occurred_at, e.data, %s
            FROM unnest(%s::text[], %s::int[], %s::text[], %s::timestamptz[], %s::jsonb[])
                 WITH ORDINALITY AS e(event_id, user_id, action, occurred_at, data, n)
            ORDER BY e.n
            ON CONFLICT (event_id) DO NOTHING
            RETURNING id, event_id
            """,
            [
                now,
                [e.event_id for e in events],
                [e.user_id for e in events],
                [e.action for e in events],
                [e.occurred_at for e in events],
                [json.dumps(e.data) for e in events],
            ],
        )
        return {event_id: seq for seq, event_id in cursor.fetchall()}


def _store_portable(events: Sequence[_Clean], now: datetime) -> dict[str, int]:
    """The same for SQLite: a concurrent insert of the same id fails the batch (retry-safe)."""
    seen = set(
        Event.objects.filter(event_id__in=[e.event_id for e in events]).values_list(
            "event_id", flat=True
        )
    )
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
            for e in events
            if e.event_id not in seen
        ]
    )
    return {event.event_id: event.pk for event in created}


def events_ingest(*, events: Sequence[Any], now: datetime | None = None) -> IngestResult:
    """Validate, store and apply a batch. Good events are kept even when others are rejected;
    an id already in the log (or earlier in the batch) is a duplicate and changes nothing.

    `now` is the arrival time (received_at); tests pin it, otherwise it is read once the
    users' locks are held, so a user's arrival times grow in log order.
    """
    clock = now or timezone.now()
    catalog = action_definitions()
    result = IngestResult()
    cleaned: list[_Clean] = []
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
    unique: list[_Clean] = []
    seen: set[str] = set()
    for event in cleaned:
        if event.event_id in seen:
            result.duplicates += 1
        else:
            seen.add(event.event_id)
            unique.append(event)
    if not unique:
        return result
    with transaction.atomic():
        # Lock first: assignment inside the lock cannot deadlock against another batch's
        # row locks on the same user's missions.
        _lock_users(sorted({e.user_id for e in unique}))
        received = now or max(timezone.now(), clock)
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
    return result


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
