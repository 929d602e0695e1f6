from __future__ import annotations

import copy
from typing import Any

import pytest

from missions.errors import TemplateInvalid
from missions.validation import validate_template

# The action catalog is data in Postgres.
pytestmark = pytest.mark.django_db

GOOD: dict[str, Any] = {
    "key": "daily_quality_poster",
    "name": "Quality Poster",
    "description": "...",
    "category": "content",
    "type": "count",
    "period_type": "daily",
    "requirements": {
        "quality_posts": {
            "action": "post:created",
            "target": 3,
            "label": "Write 3 posts of 100+ characters",
            "where": {"content_length": {"gte": 100}},
        }
    },
    "rewards": {
        "xp": 50,
        "dgt": "10",
        "items": [{"key": "streak_freeze", "qty": 1}],
        "badges": ["wordsmith"],
        "titles": ["Scribe"],
    },
    "prerequisites": {"missions_completed": ["welcome"], "badges": [], "min_streak": 0},
    "metadata": {"difficulty": "easy", "icon": "pen"},
    "weight": 100,
    "min_level": 1,
    "max_level": None,
    "cooldown_hours": None,
    "is_active": True,
}


def with_change(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return data


DELETE = object()


def test_the_spec_example_is_valid() -> None:
    cleaned = validate_template(GOOD)
    assert cleaned["key"] == "daily_quality_poster"
    assert cleaned["rewards"]["dgt"] == "10"
    assert cleaned["requirements"]["quality_posts"]["target"] == 3
    assert cleaned["max_level"] is None
    # SPEC writes the title as players see it; it is stored as its key.
    assert cleaned["rewards"]["titles"] == ["scribe"]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("key", "Bad Key!", "key"),
        ("key", DELETE, "key"),
        ("name", "", "name"),
        ("category", "gardening", "category"),
        ("type", "lottery", "type"),
        ("period_type", "hourly", "period_type"),
        ("requirements", {}, "requirements"),
        ("requirements", [1, 2], "requirements"),
        ("requirements.quality_posts.action", "post", "requirements.quality_posts.action"),
        ("requirements.quality_posts.action", "post:deleted", "requirements.quality_posts.action"),
        ("requirements.quality_posts.target", 0, "requirements.quality_posts.target"),
        ("requirements.quality_posts.target", -3, "requirements.quality_posts.target"),
        ("requirements.quality_posts.target", "three", "requirements.quality_posts.target"),
        ("requirements.quality_posts.target", 10**15, "requirements.quality_posts.target"),
        ("requirements.quality_posts.target", DELETE, "requirements.quality_posts.target"),
        ("requirements.quality_posts.label", "", "requirements.quality_posts.label"),
        ("requirements.quality_posts.colour", "red", "requirements.quality_posts.colour"),
        (
            "requirements.quality_posts.where",
            {"content_length": {"approx": 1}},
            "requirements.quality_posts.where.content_length.approx",
        ),
        (
            "requirements.quality_posts.where",
            {"mood": {"eq": 1}},
            "requirements.quality_posts.where.mood",
        ),
        (
            "requirements.quality_posts.where",
            {"forum_id": {"in": []}},
            "requirements.quality_posts.where.forum_id.in",
        ),
        (
            "requirements.quality_posts.where",
            {"content_length": {"gte": "lots"}},
            "requirements.quality_posts.where.content_length.gte",
        ),
        (
            "requirements.quality_posts.where",
            {"content_length": 100},
            "requirements.quality_posts.where.content_length",
        ),
        ("requirements.quality_posts.field", "has_media", "requirements.quality_posts.field"),
        ("requirements.quality_posts.unit", "week", "requirements.quality_posts.unit"),
        ("rewards.xp", -1, "rewards.xp"),
        ("rewards.xp", 1.5, "rewards.xp"),
        ("rewards.dgt", 10.5, "rewards.dgt"),
        ("rewards.dgt", "-1", "rewards.dgt"),
        ("rewards.dgt", "ten", "rewards.dgt"),
        ("rewards.dgt", "0.123456789", "rewards.dgt"),
        ("rewards.gems", 5, "rewards.gems"),
        ("rewards.items", [{"key": "streak_freeze", "qty": 0}], "rewards.items.0.qty"),
        ("rewards.items", [{"qty": 1}], "rewards.items.0.key"),
        ("rewards.items", "streak_freeze", "rewards.items"),
        ("rewards.badges", ["ok", "Not OK"], "rewards.badges.1"),
        ("rewards.badges", ["a", "a"], "rewards.badges"),
        ("prerequisites.min_streak", -1, "prerequisites.min_streak"),
        ("prerequisites.missions_completed", "welcome", "prerequisites.missions_completed"),
        ("prerequisites.karma", 3, "prerequisites.karma"),
        ("metadata.difficulty", "insane", "metadata.difficulty"),
        ("metadata.time_limit_minutes", 30, "metadata.time_limit_minutes"),
        ("metadata.ordered", True, "metadata.ordered"),
        ("weight", -5, "weight"),
        ("weight", "heavy", "weight"),
        ("min_level", 0, "min_level"),
        ("max_level", 0, "max_level"),
        ("cooldown_hours", -1, "cooldown_hours"),
        ("is_active", "yes", "is_active"),
        ("colour", "red", "colour"),
        ("starts_at", "2026-12-01T00:00:00Z", "starts_at"),
    ],
)
def test_each_malformed_shape_names_its_field(path: str, value: Any, field: str) -> None:
    with pytest.raises(TemplateInvalid) as caught:
        validate_template(with_change(path, value))
    assert field in caught.value.errors, caught.value.errors
    assert all(isinstance(m, str) and m for m in caught.value.errors[field])


def test_max_level_below_min_level_is_refused() -> None:
    data = with_change("min_level", 5)
    data["max_level"] = 3
    with pytest.raises(TemplateInvalid) as caught:
        validate_template(data)
    assert "min_level" in caught.value.errors["max_level"][0]


def base(type_: str, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    data["type"] = type_
    data.update(changes)
    return data


def errors_of(data: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(TemplateInvalid) as caught:
        validate_template(data)
    return caught.value.errors


def test_threshold_and_unique_need_a_field() -> None:
    assert "requirements.quality_posts.field" in errors_of(base("threshold"))
    assert "requirements.quality_posts.field" in errors_of(base("unique"))
    ok = base("unique")
    ok["requirements"]["quality_posts"]["field"] = "forum_id"
    assert validate_template(ok)["requirements"]["quality_posts"]["field"] == "forum_id"


def test_threshold_fields_must_be_numeric() -> None:
    data = base(
        "threshold",
        requirements={
            "r": {"action": "reaction:added", "target": 1, "label": "x", "field": "reaction"}
        },
    )
    assert "requirements.r.field" in errors_of(data)


def test_timebound_needs_a_time_limit() -> None:
    assert "metadata.time_limit_minutes" in errors_of(base("timebound"))
    ok = base("timebound", metadata={"time_limit_minutes": 60})
    assert validate_template(ok)["metadata"]["time_limit_minutes"] == 60
    assert "metadata.time_limit_minutes" in errors_of(
        base("timebound", metadata={"time_limit_minutes": 0})
    )


def test_combo_needs_two_requirements_and_a_boolean_order() -> None:
    assert "requirements" in errors_of(base("combo"))
    two = {
        "a": {"action": "thread:created", "target": 1, "label": "a"},
        "b": {"action": "post:created", "target": 2, "label": "b"},
    }
    assert validate_template(base("combo", requirements=two, metadata={"ordered": True}))
    assert "metadata.ordered" in errors_of(
        base("combo", requirements=two, metadata={"ordered": "yes"})
    )


def test_streak_units_are_days_or_weeks() -> None:
    data = base("streak")
    data["requirements"]["quality_posts"]["unit"] = "week"
    assert validate_template(data)["requirements"]["quality_posts"]["unit"] == "week"
    data["requirements"]["quality_posts"]["unit"] = "month"
    assert "requirements.quality_posts.unit" in errors_of(data)


def test_competitive_needs_increasing_reward_tiers() -> None:
    assert "metadata.reward_tiers" in errors_of(base("competitive"))
    tiers = [{"rank_to": 3, "rewards": {"xp": 10}}, {"rank_to": 2, "rewards": {"xp": 5}}]
    assert "metadata.reward_tiers.1.rank_to" in errors_of(
        base("competitive", metadata={"reward_tiers": tiers})
    )
    bad_rewards = [{"rank_to": 1, "rewards": {"xp": -5}}]
    assert "metadata.reward_tiers.0.rewards.xp" in errors_of(
        base("competitive", metadata={"reward_tiers": bad_rewards})
    )
    good = [
        {"rank_to": 1, "rewards": {"xp": 100, "dgt": "5"}},
        {"rank_to": 10, "rewards": {"xp": 10}},
    ]
    assert (
        validate_template(base("competitive", metadata={"reward_tiers": good}))["metadata"][
            "reward_tiers"
        ][1]["rank_to"]
        == 10
    )


def test_special_missions_need_an_ordered_window() -> None:
    errors = errors_of(base("count", period_type="special"))
    assert "starts_at" in errors and "ends_at" in errors
    backwards = base(
        "count",
        period_type="special",
        starts_at="2026-12-24T00:00:00Z",
        ends_at="2026-12-01T00:00:00Z",
    )
    assert "ends_at" in errors_of(backwards)
    naive = base(
        "count",
        period_type="special",
        starts_at="2026-12-01T00:00:00",
        ends_at="2026-12-24T00:00:00Z",
    )
    assert "starts_at" in errors_of(naive)
    in_metadata = base(
        "count",
        period_type="special",
        metadata={"starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-12-24T00:00:00Z"},
    )
    cleaned = validate_template(in_metadata)
    assert cleaned["starts_at"].day == 1 and cleaned["ends_at"].day == 24


def test_a_non_object_is_refused() -> None:
    with pytest.raises(TemplateInvalid) as caught:
        validate_template(["not", "a", "template"])
    assert "template" in caught.value.errors


@pytest.mark.parametrize("amount", ["1e3", " 10 ", "1_000", "10.", ".5", "+5", "NaN", "10\n"])
def test_dgt_must_be_a_plain_decimal_string(amount: str) -> None:
    assert "rewards.dgt" in errors_of(with_change("rewards.dgt", amount))


def test_text_postgres_cannot_store_is_refused_with_its_path() -> None:
    assert "name" in errors_of(with_change("name", "Quality\x00Poster"))
    assert "requirements.quality_posts.label" in errors_of(
        with_change("requirements.quality_posts.label", "bad \ud800")
    )


def test_a_competitive_mission_has_exactly_one_requirement_its_score() -> None:
    tiers = [{"rank_to": 1, "rewards": {"xp": 10}}]
    data = base("competitive", metadata={"reward_tiers": tiers})
    data["requirements"]["second"] = {"action": "post:created", "target": 1, "label": "More"}
    errors = errors_of(data)
    assert "requirements" in errors
    assert "exactly one requirement" in " ".join(errors["requirements"])
