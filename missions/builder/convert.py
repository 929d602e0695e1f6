"""Between the template JSON (SPEC.md, what the validator checks and the engine runs) and the
builder's editing shape (rows an admin fills in without writing JSON).

The builder shape differs only where a form needs it: requirements are an ordered list of rows
with a `key` (the JSON has an object), `where` is a list of {field, op, value} rows with the
value typed as text, and numbers that must stay exact (targets, DGT) are text. Nothing here
decides validity: `validate_template` does, on what `from_builder` returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..evaluators.base import requirement_order
from ..models import MissionType
from ..validation import DECIMAL_RE

JOIN = "§"  # django-jsonform's coordinate separator in its error map
BUILDER_METADATA = ("difficulty", "icon", "time_limit_minutes", "ordered", "reward_tiers")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return "" if value is None else str(value)


def _ordered_keys(requirements: Mapping[str, Any], metadata: Mapping[str, Any]) -> list[str]:
    order = metadata.get("order")
    keys = list(requirements)
    if isinstance(order, list) and sorted(map(str, order)) == sorted(keys):
        return [str(k) for k in order]
    return keys


def rewards_to_builder(rewards: Mapping[str, Any] | None) -> dict[str, Any]:
    rewards = rewards or {}
    return {
        "xp": rewards.get("xp"),
        "dgt": _text(rewards.get("dgt")),
        "items": [
            {"key": str(i.get("key", "")), "qty": i.get("qty", 1)}
            for i in rewards.get("items") or []
            if isinstance(i, Mapping)
        ],
        "badges": list(rewards.get("badges") or []),
        "titles": list(rewards.get("titles") or []),
    }


def to_builder(template: Mapping[str, Any]) -> dict[str, Any]:
    """The builder's initial values for a stored (or loaded) template."""
    requirements = template.get("requirements") or {}
    metadata = template.get("metadata") or {}
    rows = []
    for key in _ordered_keys(requirements, metadata):
        req = requirements[key]
        row: dict[str, Any] = {
            "key": key,
            "action": req.get("action", ""),
            "label": req.get("label", ""),
            "target": _text(req.get("target")),
            "field": req.get("field", ""),
            "unit": req.get("unit", "day"),
            "where": [
                {"field": name, "op": op, "value": _text(value)}
                for name, condition in (req.get("where") or {}).items()
                if isinstance(condition, Mapping)
                for op, value in condition.items()
            ],
        }
        rows.append(row)
    pre = template.get("prerequisites") or {}
    meta: dict[str, Any] = {
        "difficulty": metadata.get("difficulty", ""),
        "icon": metadata.get("icon", ""),
        "time_limit_minutes": metadata.get("time_limit_minutes"),
        "ordered": bool(metadata.get("ordered", False)),
        "reward_tiers": [
            {"rank_to": t.get("rank_to"), "rewards": rewards_to_builder(t.get("rewards"))}
            for t in metadata.get("reward_tiers") or []
            if isinstance(t, Mapping)
        ],
    }
    return {
        "requirements": rows,
        "rewards": rewards_to_builder(template.get("rewards")),
        "prerequisites": {
            "missions_completed": list(pre.get("missions_completed") or []),
            "badges": list(pre.get("badges") or []),
            "min_streak": pre.get("min_streak"),
        },
        "metadata": meta,
    }


def _number(text: Any) -> Any:
    """A typed-in number: whole numbers become int, exact decimals stay strings."""
    if not isinstance(text, str):
        return text
    stripped = text.strip()
    if DECIMAL_RE.fullmatch(stripped):
        value = Decimal(stripped)
        return (
            int(value) if value == value.to_integral_value() and "." not in stripped else stripped
        )
    return stripped


def _typed(text: Any, kind: str | None) -> Any:
    """A condition value typed by the catalog's field type ("int", "number", "str", "bool")."""
    if not isinstance(text, str):
        return text
    if kind == "bool":
        lowered = text.strip().lower()
        return {"true": True, "false": False}.get(lowered, text)
    if kind in ("int", "number"):
        return _number(text)
    return text


def rewards_from_builder(rewards: Mapping[str, Any] | None) -> dict[str, Any]:
    rewards = rewards or {}
    out: dict[str, Any] = {}
    if rewards.get("xp") is not None and rewards.get("xp") != "":
        out["xp"] = rewards["xp"]
    dgt = rewards.get("dgt")
    if dgt not in (None, ""):
        out["dgt"] = _number(dgt) if isinstance(dgt, str) else dgt
    items = [i for i in rewards.get("items") or [] if isinstance(i, Mapping) and i.get("key")]
    if items:
        out["items"] = [{"key": i["key"], "qty": i.get("qty", 1)} for i in items]
    for name in ("badges", "titles"):
        if rewards.get(name):
            out[name] = list(rewards[name])
    return out


def from_builder(
    *,
    mission_type: str | None,
    requirements: Any,
    rewards: Any,
    prerequisites: Any,
    metadata: Any,
    catalog: Mapping[str, Mapping[str, str]],
    kept_metadata: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Template JSON parts from the builder's values, plus shape errors (repeated or missing
    requirement names) keyed like the validator's ("requirements.<n>.key")."""
    problems: dict[str, list[str]] = {}
    if isinstance(requirements, Mapping):  # the template JSON's own shape, as a script posts it
        requirements = to_builder({"requirements": requirements})["requirements"]
    reqs: dict[str, Any] = {}
    order: list[str] = []
    for index, row in enumerate(requirements if isinstance(requirements, list) else []):
        if not isinstance(row, Mapping):
            continue
        key = str(row.get("key") or "").strip()
        if not key:
            problems.setdefault(f"requirements.{index}.key", []).append(
                "is required: name each requirement (e.g. quality_posts)"
            )
            continue
        if key in reqs:
            problems.setdefault(f"requirements.{index}.key", []).append(
                f"repeats the name {key!r} of another requirement"
            )
            continue
        action = row.get("action") or ""
        fields = catalog.get(action, {})
        req: dict[str, Any] = {"action": action, "target": _number(row.get("target", ""))}
        if req["target"] == "":
            del req["target"]
        req["label"] = row.get("label", "")
        if row.get("field"):
            req["field"] = row["field"]
        if mission_type == MissionType.STREAK and row.get("unit") not in (None, "", "day"):
            req["unit"] = row["unit"]
        where: dict[str, dict[str, Any]] = {}
        for condition in row.get("where") or []:
            if not isinstance(condition, Mapping) or not condition.get("field"):
                continue
            op = condition.get("op") or "eq"
            kind = fields.get(condition["field"])
            text = condition.get("value", "")
            value = (
                [_typed(part.strip(), kind) for part in str(text).split(",") if part.strip()]
                if op == "in"
                else _typed(text, kind)
            )
            where.setdefault(condition["field"], {})[op] = value
        if where:
            req["where"] = where
        reqs[key] = req
        order.append(key)

    meta_in = metadata if isinstance(metadata, Mapping) else {}
    meta: dict[str, Any] = {
        k: v for k, v in (kept_metadata or {}).items() if k not in (*BUILDER_METADATA, "order")
    }
    for name in ("difficulty", "icon"):
        if meta_in.get(name):
            meta[name] = meta_in[name]
    if mission_type == MissionType.TIMEBOUND and meta_in.get("time_limit_minutes") is not None:
        meta["time_limit_minutes"] = meta_in["time_limit_minutes"]
    if mission_type == MissionType.COMBO and meta_in.get("ordered"):
        meta["ordered"] = True
        meta["order"] = order
    if mission_type == MissionType.COMPETITIVE:
        meta["reward_tiers"] = [
            {"rank_to": t.get("rank_to"), "rewards": rewards_from_builder(t.get("rewards"))}
            for t in meta_in.get("reward_tiers") or []
            if isinstance(t, Mapping)
        ]

    pre_in = prerequisites if isinstance(prerequisites, Mapping) else {}
    pre: dict[str, Any] = {}
    for name in ("missions_completed", "badges"):
        if pre_in.get(name):
            pre[name] = list(pre_in[name])
    if pre_in.get("min_streak"):
        pre["min_streak"] = pre_in["min_streak"]
    return (
        {
            "requirements": reqs,
            "rewards": rewards_from_builder(rewards if isinstance(rewards, Mapping) else {}),
            "prerequisites": pre,
            "metadata": meta,
        },
        problems,
    )


def editor_coords(path: str, builder: Mapping[str, Any]) -> tuple[str, str] | None:
    """(form field, editor coordinates) of a validator error path, so django-jsonform shows
    the message on the input that caused it:
    "requirements.posts.target" → ("requirements", "0§target")."""
    parts = path.split(".")
    head = parts[0]
    if head == "requirements" and len(parts) >= 2:
        rows = builder.get("requirements") or []
        if parts[1].isdigit() and len(parts) >= 3:  # shape errors already use the row index
            return head, JOIN.join(parts[1:])
        index = next(
            (
                i
                for i, row in enumerate(rows)
                if isinstance(row, Mapping) and row.get("key") == parts[1]
            ),
            None,
        )
        if index is None:
            return None
        rest = parts[2:]
        if len(rest) >= 2 and rest[0] == "where":
            conditions = rows[index].get("where") or []
            op = rest[2] if len(rest) >= 3 else None
            for w, condition in enumerate(conditions):
                if condition.get("field") == rest[1] and (op is None or condition.get("op") == op):
                    leaf = "value" if op else "field"
                    return head, JOIN.join([str(index), "where", str(w), leaf])
            return head, JOIN.join([str(index), "where"])
        return head, JOIN.join([str(index), *rest[:1]]) if rest else str(index)
    if head in ("rewards", "prerequisites", "metadata") and len(parts) >= 2:
        return head, JOIN.join(parts[1:])
    return None


def requirement_keys_in_order(template: Mapping[str, Any]) -> list[str]:
    """The requirement order the engine uses (for the preview)."""

    class _Run:
        def __init__(self, requirements: Mapping[str, Any], metadata: Mapping[str, Any]):
            self.requirements = requirements
            self.metadata = metadata

    return requirement_order(
        _Run(template.get("requirements") or {}, template.get("metadata") or {})  # type: ignore[arg-type]
    )
