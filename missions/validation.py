"""One validator for template JSON (SPEC.md "Template and event JSON").

The admin form, the API, the demo loader and `load_templates` all call `validate_template`.
Errors are keyed by the dotted path of the field (`requirements.posts.target`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

from .catalog import NUMERIC_TYPES
from .errors import TemplateInvalid
from .json_limits import json_depth_problem
from .models import Category, MissionType, PeriodType

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,99}$")
# Decimal strings as money is written: no exponents, underscores or padding ("10.5", "-3").
DECIMAL_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")
TITLE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _\-']{0,99}")
ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")
OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains")
ORDER_OPS = ("gt", "gte", "lt", "lte")
MAX_TARGET = Decimal("1000000000000")
MAX_XP = 1_000_000_000
MAX_DGT = Decimal("1000000000000")
DIFFICULTIES = ("easy", "medium", "hard")
# Every field of the template JSON, in SPEC.md's order (the builder's raw JSON view keeps it).
TEMPLATE_FIELDS = (
    "key",
    "name",
    "description",
    "category",
    "type",
    "period_type",
    "requirements",
    "rewards",
    "prerequisites",
    "metadata",
    "weight",
    "min_level",
    "max_level",
    "cooldown_hours",
    "is_active",
    "starts_at",
    "ends_at",
)
TOP_LEVEL = set(TEMPLATE_FIELDS)
REQUIREMENT_KEYS = {"action", "target", "label", "where", "field", "unit"}
REWARD_KEYS = {"xp", "dgt", "items", "badges", "titles"}
PREREQUISITE_KEYS = {"missions_completed", "badges", "min_streak"}


class _Errors:
    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.by_field.setdefault(path, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_field)


def unknown_action_message(action: str, catalog: Iterable[str]) -> str:
    """Names the closest catalog actions, so a typo says what was meant."""
    close = difflib.get_close_matches(action, sorted(catalog), n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f"{action!r} is not in the action catalog{hint}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_field(errors: _Errors, path: str, value: Any, *, minimum: int, maximum: int) -> int | None:
    if not _is_int(value):
        errors.add(path, f"must be a whole number, got {type(value).__name__}")
        return None
    if value < minimum or value > maximum:
        errors.add(path, f"must be between {minimum} and {maximum}, got {value}")
        return None
    return int(value)


def parse_decimal(value: Any) -> Decimal | None:
    """An integer or a decimal string; floats are refused (money is never a float)."""
    if _is_int(value):
        return Decimal(value)
    if isinstance(value, str) and DECIMAL_RE.fullmatch(value):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def text_problem(value: str) -> str | None:
    """Text that Postgres cannot store: NUL characters and lone surrogates."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text (a lone surrogate)"
    return None


def _decimal_field(
    errors: _Errors,
    path: str,
    value: Any,
    *,
    minimum: Decimal,
    maximum: Decimal,
    exclusive_min: bool = False,
    places: int = 8,
) -> Decimal | None:
    if isinstance(value, float):
        errors.add(path, 'must be an integer or a decimal string such as "10.5", not a float')
        return None
    number = parse_decimal(value)
    if number is None:
        errors.add(path, f"must be an integer or a decimal string, got {value!r}")
        return None
    if number.is_zero() and number.is_signed():
        errors.add(path, f"must not be negative, got {value!r}")
        return None
    too_low = number <= minimum if exclusive_min else number < minimum
    if too_low:
        errors.add(
            path,
            f"must be greater than {minimum}" if exclusive_min else f"must be at least {minimum}",
        )
        return None
    if number > maximum:
        errors.add(path, f"must be at most {maximum}")
        return None
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        errors.add(path, f"has more than {places} decimal places")
        return None
    return number


def _str_list(errors: _Errors, path: str, value: Any) -> list[str] | None:
    if not isinstance(value, list):
        errors.add(path, "must be a list of keys")
        return None
    ok = True
    for i, entry in enumerate(value):
        if not isinstance(entry, str) or not KEY_RE.match(entry):
            errors.add(f"{path}.{i}", "must be a key (lowercase letters, digits, _ or -)")
            ok = False
    if ok and len(set(value)) != len(value):
        errors.add(path, "lists the same key twice")
        ok = False
    return list(value) if ok else None


def _datetime(errors: _Errors, path: str, value: Any) -> datetime | None:
    if isinstance(value, datetime):
        parsed: datetime | None = value
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    else:
        parsed = None
    if parsed is None:
        errors.add(path, f"must be an ISO-8601 date-time, got {value!r}")
        return None
    if parsed.tzinfo is None:
        errors.add(path, "must include a timezone (e.g. 2026-12-24T00:00:00Z)")
        return None
    return parsed


def _first_text_problem(value: Any, path: str = "") -> tuple[str, str] | None:
    if isinstance(value, str):
        problem = text_problem(value)
        return (path, problem) if problem else None
    items: Any = (
        value.items()
        if isinstance(value, Mapping)
        else (enumerate(value) if isinstance(value, list) else ())
    )
    for key, item in items:
        if isinstance(key, str) and text_problem(key):
            return (path or "template", f"has a key that {text_problem(key)}")
        found = _first_text_problem(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def validate_rewards(errors: _Errors, path: str, rewards: Any) -> dict[str, Any]:
    if not isinstance(rewards, Mapping):
        errors.add(path, "must be an object with xp, dgt, items, badges, titles")
        return {}
    cleaned: dict[str, Any] = {}
    for unknown in sorted(set(rewards) - REWARD_KEYS):
        errors.add(f"{path}.{unknown}", "is not a reward (use xp, dgt, items, badges, titles)")
    if "xp" in rewards:
        xp = _int_field(errors, f"{path}.xp", rewards["xp"], minimum=0, maximum=MAX_XP)
        if xp is not None:
            cleaned["xp"] = xp
    if "dgt" in rewards:
        dgt = _decimal_field(
            errors, f"{path}.dgt", rewards["dgt"], minimum=Decimal(0), maximum=MAX_DGT
        )
        if dgt is not None:
            cleaned["dgt"] = str(dgt)
    if "items" in rewards:
        items = rewards["items"]
        if not isinstance(items, list):
            errors.add(f"{path}.items", 'must be a list of {"key": ..., "qty": ...}')
        else:
            cleaned_items = []
            for i, item in enumerate(items):
                item_path = f"{path}.items.{i}"
                if not isinstance(item, Mapping):
                    errors.add(item_path, 'must be an object {"key": ..., "qty": ...}')
                    continue
                for unknown in sorted(set(item) - {"key", "qty"}):
                    errors.add(f"{item_path}.{unknown}", "is not an item field (use key, qty)")
                key = item.get("key")
                if not isinstance(key, str) or not KEY_RE.match(key):
                    errors.add(f"{item_path}.key", "must be an item key")
                qty = _int_field(
                    errors, f"{item_path}.qty", item.get("qty", 1), minimum=1, maximum=1_000_000
                )
                if isinstance(key, str) and qty is not None:
                    cleaned_items.append({"key": key, "qty": qty})
            cleaned["items"] = cleaned_items
    if "badges" in rewards:
        keys = _str_list(errors, f"{path}.badges", rewards["badges"])
        if keys is not None:
            cleaned["badges"] = keys
    if "titles" in rewards:
        # SPEC's own example writes titles as players see them ("Scribe"): store the key.
        raw_titles = rewards["titles"]
        if isinstance(raw_titles, list):
            raw_titles = [
                slugify(t) if isinstance(t, str) and TITLE_RE.fullmatch(t) else t
                for t in raw_titles
            ]
        keys = _str_list(errors, f"{path}.titles", raw_titles)
        if keys is not None:
            cleaned["titles"] = keys
    return cleaned


def _validate_where(
    errors: _Errors, path: str, where: Any, fields: Mapping[str, str] | None
) -> dict[str, Any]:
    if not isinstance(where, Mapping):
        errors.add(path, "must be an object {field: {op: value}}")
        return {}
    cleaned: dict[str, Any] = {}
    for field, condition in where.items():
        field_path = f"{path}.{field}"
        if fields is not None and field not in fields:
            known = ", ".join(sorted(fields)) or "none"
            errors.add(field_path, f"is not a data field of this action (known: {known})")
            continue
        if not isinstance(condition, Mapping) or not condition:
            errors.add(field_path, "must be an object {op: value} with ops " + ", ".join(OPS))
            continue
        field_type = fields.get(field) if fields is not None else None
        for op, value in condition.items():
            op_path = f"{field_path}.{op}"
            if op not in OPS:
                errors.add(op_path, "is not an operator (use " + ", ".join(OPS) + ")")
                continue
            if op in ORDER_OPS:
                if field_type is not None and field_type not in NUMERIC_TYPES:
                    errors.add(op_path, f"compares numbers, but {field} is {field_type}")
                elif (
                    isinstance(value, bool)
                    or not isinstance(value, (int, str))
                    or parse_decimal(value) is None
                ):
                    errors.add(op_path, f"must be a number, got {value!r}")
            elif op == "in":
                limit = settings.MISSIONS_MAX_IN_VALUES
                if not isinstance(value, list) or not value:
                    errors.add(op_path, "must be a non-empty list")
                elif len(value) > limit:
                    errors.add(op_path, f"lists {len(value)} values; the limit is {limit}")
            elif op == "contains":
                if not isinstance(value, (str, int)) or isinstance(value, bool):
                    errors.add(op_path, "must be a string or a number")
            elif not isinstance(value, (str, int, bool)) and value is not None:
                errors.add(op_path, f"must be a string, number or boolean, got {value!r}")
        cleaned[field] = dict(condition)
    return cleaned


def _validate_requirements(
    errors: _Errors,
    requirements: Any,
    mission_type: str | None,
    catalog: Mapping[str, Mapping[str, str]],
) -> dict[str, Any]:
    if not isinstance(requirements, Mapping) or not requirements:
        errors.add("requirements", "must be an object with at least one named requirement")
        return {}
    if mission_type == MissionType.COMBO and len(requirements) < 2:
        errors.add("requirements", "a combo mission needs at least two requirements")
    if mission_type == MissionType.COMPETITIVE and len(requirements) != 1:
        # One score per player: the leaderboard ranks that one requirement's progress.
        errors.add(
            "requirements",
            "a competitive mission has exactly one requirement (its score), "
            f"got {len(requirements)}",
        )
    cleaned: dict[str, Any] = {}
    for req_key, req in requirements.items():
        path = f"requirements.{req_key}"
        if not isinstance(req_key, str) or not KEY_RE.match(req_key):
            errors.add(path, "requirement names are keys (lowercase letters, digits, _ or -)")
            continue
        if not isinstance(req, Mapping):
            errors.add(path, "must be an object with action, target and label")
            continue
        for unknown in sorted(set(req) - REQUIREMENT_KEYS):
            errors.add(
                f"{path}.{unknown}",
                "is not a requirement field (use " + ", ".join(sorted(REQUIREMENT_KEYS)) + ")",
            )
        action = req.get("action")
        fields: Mapping[str, str] | None = None
        if not isinstance(action, str) or not ACTION_RE.match(action):
            errors.add(f"{path}.action", 'is required, e.g. "post:created"')
        elif action not in catalog:
            errors.add(f"{path}.action", unknown_action_message(action, catalog))
        else:
            fields = catalog[action]
        out: dict[str, Any] = {"action": action}
        integer_target = mission_type in (
            MissionType.STREAK,
            MissionType.UNIQUE,
            MissionType.COMBO,
        ) or (mission_type in (MissionType.COUNT, MissionType.TIMEBOUND) and "field" not in req)
        if "target" not in req:
            errors.add(f"{path}.target", "is required (a number greater than 0)")
        elif integer_target:
            target = _int_field(
                errors, f"{path}.target", req["target"], minimum=1, maximum=int(MAX_TARGET)
            )
            if target is not None:
                out["target"] = target
        else:
            dec = _decimal_field(
                errors,
                f"{path}.target",
                req["target"],
                minimum=Decimal(0),
                maximum=MAX_TARGET,
                exclusive_min=True,
            )
            if dec is not None:
                out["target"] = int(dec) if dec == dec.to_integral_value() else str(dec)
        label = req.get("label")
        if not isinstance(label, str) or not label.strip():
            errors.add(f"{path}.label", "is required: the text players see")
        elif len(label) > 200:
            errors.add(f"{path}.label", "must be at most 200 characters")
        else:
            out["label"] = label.strip()
        field = req.get("field")
        needs_field = mission_type in (MissionType.THRESHOLD, MissionType.UNIQUE)
        if field is None:
            if needs_field:
                errors.add(
                    f"{path}.field",
                    f"is required for {mission_type} missions: the event data field to read",
                )
        elif not isinstance(field, str):
            errors.add(f"{path}.field", "must be a data field name")
        elif fields is not None and field not in fields:
            errors.add(f"{path}.field", f"{field!r} is not a data field of {action}")
        else:
            if (
                fields is not None
                and mission_type
                in (
                    MissionType.COUNT,
                    MissionType.TIMEBOUND,
                    MissionType.THRESHOLD,
                    MissionType.COMPETITIVE,
                )
                and fields.get(field) not in NUMERIC_TYPES
            ):
                errors.add(
                    f"{path}.field", f"{field!r} is not numeric, so it cannot be summed or compared"
                )
            out["field"] = field
        if "unit" in req:
            if mission_type != MissionType.STREAK:
                errors.add(f"{path}.unit", "only streak missions have a unit")
            elif req["unit"] not in ("day", "week"):
                errors.add(f"{path}.unit", 'must be "day" or "week"')
            else:
                out["unit"] = req["unit"]
        if "where" in req:
            out["where"] = _validate_where(errors, f"{path}.where", req["where"], fields)
        cleaned[req_key] = out
    return cleaned


def _validate_metadata(
    errors: _Errors,
    metadata: Any,
    mission_type: str | None,
    requirement_keys: Iterable[str] = (),
) -> dict[str, Any]:
    if not isinstance(metadata, Mapping):
        errors.add("metadata", "must be an object")
        return {}
    size = len(json.dumps(metadata, default=str).encode())
    limit = settings.MISSIONS_MAX_TEMPLATE_METADATA_BYTES
    if size > limit:
        errors.add("metadata", f"is {size} bytes; the limit is {limit}")
        return {}
    cleaned = dict(metadata)
    if "difficulty" in metadata and metadata["difficulty"] not in DIFFICULTIES:
        errors.add("metadata.difficulty", "must be one of " + ", ".join(DIFFICULTIES))
    if "icon" in metadata and not isinstance(metadata["icon"], str):
        errors.add("metadata.icon", "must be a string")
    if "min_remaining_percent" in metadata:
        # The assignment policy: assigned only while this share of the period remains.
        _int_field(
            errors,
            "metadata.min_remaining_percent",
            metadata["min_remaining_percent"],
            minimum=0,
            maximum=99,
        )
    if mission_type == MissionType.TIMEBOUND:
        if "time_limit_minutes" not in metadata:
            errors.add("metadata.time_limit_minutes", "is required for timebound missions")
        else:
            _int_field(
                errors,
                "metadata.time_limit_minutes",
                metadata["time_limit_minutes"],
                minimum=1,
                maximum=525_600,
            )
    elif "time_limit_minutes" in metadata:
        errors.add("metadata.time_limit_minutes", "only timebound missions have a time limit")
    if "ordered" in metadata:
        if mission_type != MissionType.COMBO:
            errors.add("metadata.ordered", "only combo missions can be ordered")
        elif not isinstance(metadata["ordered"], bool):
            errors.add("metadata.ordered", "must be true or false")
    if "order" in metadata:
        # Postgres jsonb does not keep object key order, so an ordered combo names its order.
        order = metadata["order"]
        keys = sorted(requirement_keys)
        if mission_type != MissionType.COMBO:
            errors.add("metadata.order", "only combo missions have a requirement order")
        elif (
            not isinstance(order, list)
            or sorted(map(str, order)) != keys
            or len(order) != len(set(order))
        ):
            errors.add(
                "metadata.order",
                "must list every requirement name once, in order: " + ", ".join(keys),
            )
    if mission_type == MissionType.COMPETITIVE:
        tiers = metadata.get("reward_tiers")
        if not isinstance(tiers, list) or not tiers:
            errors.add(
                "metadata.reward_tiers",
                'is required for competitive missions: [{"rank_to": 1, "rewards": {...}}, ...]',
            )
        else:
            previous = 0
            cleaned_tiers = []
            for i, tier in enumerate(tiers):
                tier_path = f"metadata.reward_tiers.{i}"
                if not isinstance(tier, Mapping):
                    errors.add(tier_path, "must be an object {rank_to, rewards}")
                    continue
                rank_to = _int_field(
                    errors,
                    f"{tier_path}.rank_to",
                    tier.get("rank_to"),
                    minimum=1,
                    maximum=1_000_000,
                )
                if rank_to is not None and rank_to <= previous:
                    errors.add(
                        f"{tier_path}.rank_to",
                        f"must be greater than the previous tier's {previous}",
                    )
                rewards = validate_rewards(errors, f"{tier_path}.rewards", tier.get("rewards"))
                if rank_to is not None:
                    previous = max(previous, rank_to)
                    cleaned_tiers.append({"rank_to": rank_to, "rewards": rewards})
            cleaned["reward_tiers"] = cleaned_tiers
    elif "reward_tiers" in metadata:
        errors.add("metadata.reward_tiers", "only competitive missions have reward tiers")
    return cleaned


def validate_template(
    data: Any, *, catalog: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, Any]:
    """Return the cleaned template (model field values) or raise TemplateInvalid."""
    if catalog is None:
        from .catalog import action_catalog

        catalog = action_catalog()
    errors = _Errors()
    too_deep = json_depth_problem(data)
    if too_deep:
        raise TemplateInvalid("template JSON is too deep", errors={"template": [too_deep]})
    bad_text = _first_text_problem(data)
    if bad_text:
        path, problem = bad_text
        raise TemplateInvalid(
            "template text is not storable", errors={path or "template": [problem]}
        )
    if not isinstance(data, Mapping):
        raise TemplateInvalid(
            "a template must be a JSON object", errors={"template": ["must be an object"]}
        )
    for unknown in sorted(set(data) - TOP_LEVEL):
        errors.add(unknown, "is not a template field")
    cleaned: dict[str, Any] = {}

    key = data.get("key")
    if not isinstance(key, str) or not KEY_RE.match(key):
        errors.add("key", "is required: lowercase letters, digits, _ or -, at most 100 characters")
    else:
        cleaned["key"] = key
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.add("name", "is required")
    elif len(name) > 255:
        errors.add("name", "must be at most 255 characters")
    else:
        cleaned["name"] = name.strip()
    description = data.get("description", "")
    if not isinstance(description, str):
        errors.add("description", "must be a string")
    else:
        cleaned["description"] = description
    for field, choices in (
        ("category", Category),
        ("type", MissionType),
        ("period_type", PeriodType),
    ):
        value = data.get(field, PeriodType.DAILY.value if field == "period_type" else None)
        if value not in choices.values:
            errors.add(field, f"must be one of {', '.join(choices.values)}, got {value!r}")
        else:
            cleaned[field] = value
    mission_type = cleaned.get("type")

    cleaned["requirements"] = _validate_requirements(
        errors, data.get("requirements"), mission_type, catalog
    )
    cleaned["rewards"] = validate_rewards(errors, "rewards", data.get("rewards", {}))

    prerequisites = data.get("prerequisites") or {}
    if not isinstance(prerequisites, Mapping):
        errors.add("prerequisites", "must be an object with missions_completed, badges, min_streak")
        prerequisites = {}
    for unknown in sorted(set(prerequisites) - PREREQUISITE_KEYS):
        errors.add(
            f"prerequisites.{unknown}",
            "is not a prerequisite (use missions_completed, badges, min_streak)",
        )
    cleaned_pre: dict[str, Any] = {}
    for list_key in ("missions_completed", "badges"):
        if list_key in prerequisites:
            keys = _str_list(errors, f"prerequisites.{list_key}", prerequisites[list_key])
            if keys:
                cleaned_pre[list_key] = keys
    if "min_streak" in prerequisites:
        streak = _int_field(
            errors,
            "prerequisites.min_streak",
            prerequisites["min_streak"],
            minimum=0,
            maximum=100_000,
        )
        if streak:
            cleaned_pre["min_streak"] = streak
    cleaned["prerequisites"] = cleaned_pre

    metadata = data.get("metadata") or {}
    requirements = data.get("requirements")
    cleaned["metadata"] = _validate_metadata(
        errors,
        metadata,
        mission_type,
        [str(k) for k in requirements] if isinstance(requirements, Mapping) else [],
    )

    weight = _int_field(errors, "weight", data.get("weight", 100), minimum=0, maximum=1_000_000)
    if weight is not None:
        cleaned["weight"] = weight
    min_level = _int_field(
        errors, "min_level", data.get("min_level", 1), minimum=1, maximum=100_000
    )
    if min_level is not None:
        cleaned["min_level"] = min_level
    max_level = data.get("max_level")
    if max_level is None:
        cleaned["max_level"] = None
    else:
        checked = _int_field(errors, "max_level", max_level, minimum=1, maximum=100_000)
        if checked is not None and min_level is not None and checked < min_level:
            errors.add("max_level", f"must be at least min_level ({min_level}), or null for no cap")
        elif checked is not None:
            cleaned["max_level"] = checked
    cooldown = data.get("cooldown_hours")
    if cooldown is None:
        cleaned["cooldown_hours"] = None
    else:
        checked = _int_field(errors, "cooldown_hours", cooldown, minimum=0, maximum=87_600)
        if checked is not None:
            cleaned["cooldown_hours"] = checked
    is_active = data.get("is_active", True)
    if not isinstance(is_active, bool):
        errors.add("is_active", "must be true or false")
    else:
        cleaned["is_active"] = is_active

    # Special windows: top-level fields, or metadata.starts_at / ends_at as the sketch has them.
    starts_raw = data.get(
        "starts_at", metadata.get("starts_at") if isinstance(metadata, Mapping) else None
    )
    ends_raw = data.get(
        "ends_at", metadata.get("ends_at") if isinstance(metadata, Mapping) else None
    )
    if cleaned.get("period_type") == PeriodType.SPECIAL:
        starts = _datetime(errors, "starts_at", starts_raw) if starts_raw is not None else None
        ends = _datetime(errors, "ends_at", ends_raw) if ends_raw is not None else None
        if starts_raw is None:
            errors.add("starts_at", "is required for special missions")
        if ends_raw is None:
            errors.add("ends_at", "is required for special missions")
        if starts and ends and ends <= starts:
            errors.add("ends_at", "must be after starts_at")
        cleaned["starts_at"], cleaned["ends_at"] = starts, ends
    else:
        if starts_raw is not None or ends_raw is not None:
            errors.add("starts_at", "only special missions have a starts_at / ends_at window")
        cleaned["starts_at"] = cleaned["ends_at"] = None

    if errors:
        label = cleaned.get("key") or "template"
        raise TemplateInvalid(f"{label} is invalid", errors=errors.by_field)
    return cleaned
