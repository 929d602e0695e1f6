"""JSON schemas for the admin's mission builder (django-jsonform), generated from the one
template validator (missions/validation.py) and the catalogs.

The schemas only shape the editor: what it offers, in which order, with which help. Whether a
template is valid is decided by `validate_template` alone, and its errors are put back on the
builder field (and editor row) that caused them (forms.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.apps import apps

from ..models import MissionTemplate, MissionType
from ..player.presentation import ICONS
from ..validation import DIFFICULTIES, MAX_DGT, MAX_XP, OPS, ORDER_OPS

OP_TITLES = {
    "eq": "equals",
    "ne": "is not",
    "gt": "greater than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "in": "is one of (comma-separated)",
    "contains": "contains",
}

# What each mission type does with its requirements; shown above the editors and swapped
# in when the admin changes the type.
TYPE_HELP: dict[str, str] = {
    MissionType.COUNT: "Counts matching events, or sums a numeric data field; done at the target.",
    MissionType.THRESHOLD: "Takes the largest value of a numeric data field seen in one event "
    "(e.g. one tip of 100 DGT); done when it reaches the target. A data field is required.",
    MissionType.UNIQUE: "Counts distinct values of a data field (5 different forums); "
    "a data field is required.",
    MissionType.STREAK: "Consecutive UTC days (or weeks, with unit = week) with at least one "
    "matching event; the target is a number of days or weeks.",
    MissionType.TIMEBOUND: "Like count, but only inside the time limit from assignment; "
    "otherwise the mission fails. Set the time limit below.",
    MissionType.COMBO: "Several requirements, all must be met (at least two). Tick “ordered” "
    "to make players meet them in the order of the rows.",
    MissionType.COMPETITIVE: "A score over the period (count or sum of a field); at period end "
    "ranks are final and the reward tiers below pay the top players.",
}

TARGET_HELP: dict[str, str] = {
    MissionType.STREAK: "Days (or weeks) in a row, a whole number.",
    MissionType.UNIQUE: "Number of distinct values, a whole number.",
    MissionType.COMBO: "Events needed for this step, a whole number.",
    MissionType.THRESHOLD: 'Value to reach, e.g. 100 or "2.5" (exact decimal).',
    MissionType.COMPETITIVE: "Score that shows as “done” on the card; ranks decide rewards.",
}
FIELD_HELP: dict[str, str] = {
    MissionType.COUNT: "Optional: a numeric field to sum instead of counting events.",
    MissionType.TIMEBOUND: "Optional: a numeric field to sum instead of counting events.",
    MissionType.COMPETITIVE: "Optional: a numeric field whose sum is the score.",
    MissionType.THRESHOLD: "Required: the numeric field whose largest value counts.",
    MissionType.UNIQUE: "Required: the field whose distinct values are counted.",
}
NUMERIC_FIELD_TYPES = (
    MissionType.COUNT,
    MissionType.TIMEBOUND,
    MissionType.THRESHOLD,
    MissionType.COMPETITIVE,
)


def _catalog_keys(model_name: str) -> list[dict[str, str]]:
    # The reward catalogs belong to the rewards app, which sits above the engine: looked up by
    # name so the engine's modules never import it (CONVENTIONS item 9).
    model = apps.get_model("rewards", model_name)
    return [
        {"title": f"{name} ({key})", "value": key}
        for key, name in model.objects.order_by("key").values_list("key", "name")
    ]


def _with_current(choices: list[dict[str, str]], current: Iterable[str]) -> list[dict[str, str]]:
    """Keep values the template already uses even when the catalog does not list them."""
    known = {c["value"] for c in choices}
    return choices + [{"title": v, "value": v} for v in current if v not in known]


def action_choices(catalog: Mapping[str, Mapping[str, str]]) -> list[dict[str, str]]:
    choices = []
    for action, fields in sorted(catalog.items()):
        listed = ", ".join(f"{name} ({kind})" for name, kind in fields.items()) or "no data"
        choices.append({"title": f"{action} — {listed}", "value": action})
    return choices


def field_choices(
    catalog: Mapping[str, Mapping[str, str]], *, numeric_only: bool, blank: str | None
) -> list[dict[str, str]]:
    by_field: dict[str, list[str]] = {}
    for action, fields in sorted(catalog.items()):
        for name, kind in fields.items():
            if numeric_only and kind not in ("int", "number"):
                continue
            by_field.setdefault(name, []).append(f"{action} {kind}")
    choices = [{"title": blank, "value": ""}] if blank is not None else []
    choices += [
        {"title": f"{name} — {'; '.join(where)}", "value": name}
        for name, where in sorted(by_field.items())
    ]
    return choices


def requirements_schema(
    mission_type: str | None, catalog: Mapping[str, Mapping[str, str]]
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "key": {
            "type": "string",
            "title": "Name",
            "help_text": "A key: lowercase letters, digits, _ or - (e.g. quality_posts).",
        },
        "action": {"type": "string", "title": "Action", "choices": action_choices(catalog)},
        "label": {"type": "string", "title": "Label players see", "maxLength": 200},
        "target": {
            "type": "string",
            "title": "Target",
            "help_text": TARGET_HELP.get(
                str(mission_type), "Events needed (or the sum of the field), greater than 0."
            ),
        },
    }
    if mission_type in FIELD_HELP:
        required = mission_type in (MissionType.THRESHOLD, MissionType.UNIQUE)
        properties["field"] = {
            "type": "string",
            "title": "Data field",
            "help_text": FIELD_HELP[str(mission_type)],
            "choices": field_choices(
                catalog,
                numeric_only=mission_type in NUMERIC_FIELD_TYPES,
                blank=None if required else "— count events —",
            ),
        }
    if mission_type == MissionType.STREAK:
        properties["unit"] = {
            "type": "string",
            "title": "Unit",
            "choices": [{"title": "days", "value": "day"}, {"title": "weeks", "value": "week"}],
            "default": "day",
        }
    properties["where"] = {
        "type": "array",
        "title": "Only events where",
        "help_text": "Conditions on the event's data; all must hold. Order operators ("
        + ", ".join(ORDER_OPS)
        + ") need a numeric field.",
        "items": {
            "type": "object",
            "title": "Condition",
            "properties": {
                "field": {
                    "type": "string",
                    "title": "Field",
                    "choices": field_choices(catalog, numeric_only=False, blank=None),
                },
                "op": {
                    "type": "string",
                    "title": "Operator",
                    "choices": [{"title": OP_TITLES[op], "value": op} for op in OPS],
                },
                "value": {"type": "string", "title": "Value"},
            },
        },
    }
    return {
        "type": "array",
        "title": "Requirements",
        "minItems": 1,
        "items": {"type": "object", "title": "Requirement", "properties": properties},
    }


def rewards_properties(*, items: list[str], badges: list[str], titles: list[str]) -> dict:
    return {
        "xp": {
            "type": "integer",
            "title": "XP",
            "minimum": 0,
            "maximum": MAX_XP,
            "help_text": "Whole number.",
        },
        "dgt": {
            "type": "string",
            "title": "DGT",
            "help_text": f'Exact decimal, e.g. "10.5" (at most {MAX_DGT}, 8 decimal places).',
        },
        "items": {
            "type": "array",
            "title": "Items",
            "items": {
                "type": "object",
                "title": "Item",
                "properties": {
                    "key": {
                        "type": "string",
                        "title": "Item",
                        "choices": _with_current(_catalog_keys("Item"), items),
                    },
                    "qty": {"type": "integer", "title": "Quantity", "minimum": 1, "default": 1},
                },
            },
        },
        "badges": {
            "type": "array",
            "title": "Badges",
            "items": {
                "type": "string",
                "widget": "multiselect",
                "choices": _with_current(_catalog_keys("Badge"), badges),
            },
        },
        "titles": {
            "type": "array",
            "title": "Titles",
            "items": {
                "type": "string",
                "widget": "multiselect",
                "choices": _with_current(_catalog_keys("Title"), titles),
            },
        },
    }


def rewards_schema(current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    current = current or {}
    return {
        "type": "object",
        "title": "Rewards",
        "properties": rewards_properties(
            items=[str(i.get("key")) for i in current.get("items") or [] if isinstance(i, dict)],
            badges=[str(b) for b in current.get("badges") or []],
            titles=[str(t) for t in current.get("titles") or []],
        ),
    }


def prerequisites_schema(current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    current = current or {}
    template_keys = [
        {"title": f"{name} ({key})", "value": key}
        for key, name in MissionTemplate.objects.order_by("key").values_list("key", "name")
    ]
    return {
        "type": "object",
        "title": "Prerequisites",
        "properties": {
            "missions_completed": {
                "type": "array",
                "title": "Missions completed before",
                "items": {
                    "type": "string",
                    "widget": "multiselect",
                    "choices": _with_current(
                        template_keys, current.get("missions_completed") or []
                    ),
                },
            },
            "badges": {
                "type": "array",
                "title": "Badges held",
                "items": {
                    "type": "string",
                    "widget": "multiselect",
                    "choices": _with_current(_catalog_keys("Badge"), current.get("badges") or []),
                },
            },
            "min_streak": {
                "type": "integer",
                "title": "Minimum daily streak",
                "minimum": 0,
                "maximum": 100_000,
            },
        },
    }


def metadata_schema(
    mission_type: str | None, current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    current = current or {}
    properties: dict[str, Any] = {
        "difficulty": {
            "type": "string",
            "title": "Difficulty",
            "help_text": "Used by analytics (completion by difficulty).",
            "choices": [{"title": "—", "value": ""}]
            + [{"title": d, "value": d} for d in DIFFICULTIES],
        },
        "icon": {
            "type": "string",
            "title": "Icon",
            "choices": [{"title": "— default 🎯 —", "value": ""}]
            + [{"title": f"{glyph} {name}", "value": name} for name, glyph in ICONS.items()],
        },
    }
    if mission_type == MissionType.TIMEBOUND:
        properties["time_limit_minutes"] = {
            "type": "integer",
            "title": "Time limit (minutes)",
            "help_text": "From assignment; required for timebound missions.",
            "minimum": 1,
            "maximum": 525_600,
        }
    if mission_type == MissionType.COMBO:
        properties["ordered"] = {
            "type": "boolean",
            "title": "Ordered: requirements must be met in the order of the rows",
        }
    if mission_type == MissionType.COMPETITIVE:
        tiers = current.get("reward_tiers") or []
        rewards = [t.get("rewards") or {} for t in tiers if isinstance(t, dict)]
        properties["reward_tiers"] = {
            "type": "array",
            "title": "Reward tiers",
            "help_text": "Ranks 1..rank_to of each tier get its rewards (tiers in rising rank).",
            "minItems": 1,
            "items": {
                "type": "object",
                "title": "Tier",
                "properties": {
                    "rank_to": {"type": "integer", "title": "Up to rank", "minimum": 1},
                    "rewards": {
                        "type": "object",
                        "title": "Rewards",
                        "properties": rewards_properties(
                            items=[
                                str(i.get("key"))
                                for r in rewards
                                for i in r.get("items") or []
                                if isinstance(i, dict)
                            ],
                            badges=[str(b) for r in rewards for b in r.get("badges") or []],
                            titles=[str(t) for r in rewards for t in r.get("titles") or []],
                        ),
                    },
                },
            },
        }
    return {"type": "object", "title": "Display and type settings", "properties": properties}
