"""Validation of incoming events against the action catalog (SPEC.md "Event").

Pure: no database access. Errors are keyed by field (`data.content_length`) and say what is
wrong, so a sender can fix the event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.dateparse import parse_datetime

from .catalog import ActionDef
from .json_limits import json_depth_problem
from .models import PERPETUAL_START
from .validation import DECIMAL_RE, text_problem

EVENT_KEYS = {"id", "user_id", "action", "occurred_at", "data"}
MAX_NUMBER = Decimal(10) ** 15
MAX_STRING = 1000
MAX_EVENT_ID = 200
# How far ahead of our clock a sender's occurred_at may be (clock skew).
FUTURE_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Rejection:
    index: int
    id: str | None
    errors: dict[str, list[str]]

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "errors": self.errors}


@dataclass(frozen=True)
class CleanEvent:
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
        if isinstance(value, str) and not DECIMAL_RE.fullmatch(value):
            return f'must be an integer or a decimal string such as "10.5", got {value!r}'
        try:
            number = Decimal(value)
        except InvalidOperation:
            return f"must be an integer or a decimal string, got {value!r}"
        if not number.is_finite():
            return f"must be a finite number, got {value!r}"
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > 8:
            return "has more than 8 decimal places"
    else:
        return f"must be a number, got {type(value).__name__}"
    if number.is_signed():  # "-0" too: a signed zero is not an amount
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
    try:
        instant = instant.astimezone(UTC)
    except OverflowError:
        errors.setdefault("occurred_at", []).append("is out of range")
        return now
    if instant > now + FUTURE_SKEW:
        errors.setdefault("occurred_at", []).append("is in the future")
    elif instant < PERPETUAL_START:
        errors.setdefault("occurred_at", []).append(
            f"is before {PERPETUAL_START.isoformat()}, earlier than any mission period"
        )
    return instant


def _bad_text(value: Any) -> str | None:
    """The first text problem anywhere in the event (keys and values), or None."""
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, Mapping):
        for key, item in value.items():
            problem = _bad_text(key) or _bad_text(item)
            if problem:
                return problem
    if isinstance(value, list):
        for item in value:
            problem = _bad_text(item)
            if problem:
                return problem
    return None


def event_clean(
    index: int, raw: Any, *, catalog: Mapping[str, ActionDef], now: datetime
) -> CleanEvent | Rejection:
    """Validate one raw event; errors are keyed by field and say what is wrong."""
    if not isinstance(raw, Mapping):
        return Rejection(index, None, {"event": ["must be an object"]})
    # Before any walk over it: deep nesting would hit the recursion limit (a 500).
    too_deep = json_depth_problem(dict(raw))
    if too_deep:
        raw_id = raw.get("id")
        shown = raw_id if isinstance(raw_id, str) and not text_problem(raw_id) else None
        return Rejection(index, shown, {"event": [too_deep]})
    # Postgres text cannot hold NUL or lone surrogates: refuse the event, not the batch.
    bad_text = _bad_text(raw)
    if bad_text:
        raw_id = raw.get("id")
        shown = raw_id if isinstance(raw_id, str) and not text_problem(raw_id) else None
        return Rejection(index, shown, {"event": [bad_text]})
    errors: dict[str, list[str]] = {}
    for unknown in sorted(set(raw) - EVENT_KEYS):
        errors.setdefault(str(unknown), []).append(
            "is not an event field (use " + ", ".join(sorted(EVENT_KEYS)) + ")"
        )
    event_id = raw.get("id")
    shown_id = event_id if isinstance(event_id, str) else None
    if event_id is None:
        errors.setdefault("id", []).append("is required: the sender's unique event id (a string)")
    elif not isinstance(event_id, str):
        errors.setdefault("id", []).append(f"must be a string, got {type(event_id).__name__}")
    elif not event_id.strip():
        errors.setdefault("id", []).append("must not be blank")
    elif len(event_id) > MAX_EVENT_ID:
        errors.setdefault("id", []).append(f"must be at most {MAX_EVENT_ID} characters")
    user_id = raw.get("user_id")
    if user_id is None:
        errors.setdefault("user_id", []).append("is required: a positive integer user id")
    elif isinstance(user_id, bool) or not isinstance(user_id, int):
        errors.setdefault("user_id", []).append(
            f"must be a positive integer, got {type(user_id).__name__}"
        )
    elif user_id <= 0:
        errors.setdefault("user_id", []).append(f"must be a positive integer, got {user_id}")
    action = raw.get("action")
    definition = catalog.get(action) if isinstance(action, str) else None
    if action is None or action == "":
        errors.setdefault("action", []).append('is required, e.g. "post:created"')
    elif not isinstance(action, str):
        errors.setdefault("action", []).append(f"must be a string, got {type(action).__name__}")
    elif definition is None:
        errors.setdefault("action", []).append(f"{action!r} is not in the action catalog")
    occurred_at = _occurred_at(errors, raw.get("occurred_at"), now)
    data = _clean_data(errors, raw.get("data"), definition) if definition else {}
    if errors:
        return Rejection(index, shown_id, errors)
    assert isinstance(event_id, str) and isinstance(user_id, int) and isinstance(action, str)
    return CleanEvent(index, event_id, user_id, action, occurred_at, data)
