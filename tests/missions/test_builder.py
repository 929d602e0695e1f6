"""The admin's mission builder: what it saves equals what load_templates loads from the same
JSON, and every builder field's bad input comes back on that field."""

from __future__ import annotations

import copy
import html
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from missions.builder.convert import to_builder
from missions.builder.forms import TEMPLATE_JSON_FIELDS, template_as_json
from missions.management.commands.seed_demo import DEMO_TEMPLATES
from missions.models import MissionTemplate
from missions.services import templates_load

ADD = "/admin/missions/missiontemplate/add/"
SPEC_EXAMPLE = {
    "key": "daily_quality_poster",
    "name": "Quality Poster",
    "description": "Write good posts",
    "category": "content",
    "type": "count",
    "period_type": "daily",
    "requirements": {
        "quality_posts": {
            "action": "post:created",
            "target": 3,
            "label": "Write 3 posts of 100+ characters",
            "where": {"content_length": {"gte": 100}, "forum_id": {"in": [3, 7]}},
        }
    },
    "rewards": {
        "xp": 50,
        "dgt": "10.5",
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
# What the editor posts for SPEC_EXAMPLE, written out by hand (not derived by the code under test).
SPEC_EXAMPLE_BUILDER = {
    "requirements": [
        {
            "key": "quality_posts",
            "action": "post:created",
            "label": "Write 3 posts of 100+ characters",
            "target": "3",
            "field": "",
            "where": [
                {"field": "content_length", "op": "gte", "value": "100"},
                {"field": "forum_id", "op": "in", "value": "3, 7"},
            ],
        }
    ],
    "rewards": {
        "xp": 50,
        "dgt": "10.5",
        "items": [{"key": "streak_freeze", "qty": 1}],
        "badges": ["wordsmith"],
        "titles": ["Scribe"],
    },
    "prerequisites": {"missions_completed": ["welcome"], "badges": [], "min_streak": None},
    "metadata": {"difficulty": "easy", "icon": "pen"},
}


def form_data(template: dict[str, Any], builder: dict[str, Any] | None = None) -> dict[str, Any]:
    """The POST an admin's browser sends: plain fields plus the editors' JSON."""
    builder = builder if builder is not None else to_builder(template)
    data: dict[str, Any] = {}
    for name in ("key", "name", "description", "category", "type", "period_type"):
        data[name] = template.get(name, "")
    data["weight"] = template.get("weight", 100)
    data["min_level"] = template.get("min_level", 1)
    for name in ("max_level", "cooldown_hours"):
        data[name] = "" if template.get(name) is None else template[name]
    if template.get("is_active", True):
        data["is_active"] = "on"
    for name in ("starts_at", "ends_at"):
        if template.get(name):
            moment = datetime.fromisoformat(template[name])
            data[f"{name}_0"] = moment.strftime("%Y-%m-%d")
            data[f"{name}_1"] = moment.strftime("%H:%M:%S")
    for name in TEMPLATE_JSON_FIELDS:
        data[name] = json.dumps(builder[name])
    return data


def demo_templates() -> list[dict[str, Any]]:
    templates = json.loads(DEMO_TEMPLATES.read_text())
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for template in templates:
        if template.get("period_type") == "special":
            template["starts_at"] = start.isoformat()
            template["ends_at"] = (start + timedelta(days=40)).isoformat()
    return templates


def saved(key: str) -> dict[str, Any]:
    return template_as_json(MissionTemplate.objects.get(key=key))


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    return {name: [str(e) for e in errs] for name, errs in form.errors.items()}


@pytest.mark.django_db
def test_the_spec_example_built_by_hand_equals_the_loaded_one(admin_client: Any) -> None:
    response = admin_client.post(ADD, form_data(SPEC_EXAMPLE, SPEC_EXAMPLE_BUILDER))
    assert response.status_code == 302, errors_of(response)
    built = saved("daily_quality_poster")
    MissionTemplate.objects.all().delete()
    templates_load(items=[copy.deepcopy(SPEC_EXAMPLE)])
    assert built == saved("daily_quality_poster")
    assert built["rewards"]["dgt"] == "10.5"
    assert built["requirements"]["quality_posts"]["where"]["forum_id"] == {"in": [3, 7]}


@pytest.mark.django_db
@pytest.mark.parametrize("index", range(len(demo_templates())))
def test_every_demo_template_built_in_the_builder_equals_the_loaded_one(
    admin_client: Any, index: int
) -> None:
    template = demo_templates()[index]
    templates_load(items=[copy.deepcopy(template)])
    loaded = saved(template["key"])
    MissionTemplate.objects.all().delete()
    response = admin_client.post(ADD, form_data(template))
    assert response.status_code == 302, errors_of(response)
    assert saved(template["key"]) == loaded


@pytest.mark.django_db
def test_editing_in_the_builder_keeps_the_template_as_it_was(admin_client: Any) -> None:
    templates_load(items=[copy.deepcopy(SPEC_EXAMPLE)])
    before = saved("daily_quality_poster")
    template = MissionTemplate.objects.get(key="daily_quality_poster")
    page = admin_client.get(f"/admin/missions/missiontemplate/{template.pk}/change/")
    form = page.context["adminform"].form
    data = form_data(before, {name: form.initial[name] for name in TEMPLATE_JSON_FIELDS})
    response = admin_client.post(f"/admin/missions/missiontemplate/{template.pk}/change/", data)
    assert response.status_code == 302, errors_of(response)
    assert saved("daily_quality_poster") == before


def _bad(builder_change: Any) -> dict[str, Any]:
    builder = copy.deepcopy(SPEC_EXAMPLE_BUILDER)
    builder_change(builder)
    return builder


def _set(path: str, value: Any) -> Any:
    def change(builder: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        node: Any = builder
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(leaf) if leaf.isdigit() else leaf] = value

    return change


BAD_BUILDER_INPUT = [
    ("requirements", _set("requirements.0.target", "-1"), "requirements.quality_posts.target"),
    ("requirements", _set("requirements.0.target", "1.5e3"), "requirements.quality_posts.target"),
    ("requirements", _set("requirements.0.action", "post:creatd"), "did you mean post:created"),
    ("requirements", _set("requirements.0.key", ""), "name each requirement"),
    ("requirements", _set("requirements.0.key", "Bad Key"), "requirement names are keys"),
    ("requirements", _set("requirements.0.label", ""), "requirements.quality_posts.label"),
    ("requirements", _set("requirements.0.field", "has_media"), "is not numeric"),
    (
        "requirements",
        _set("requirements.0.where.0", {"field": "reaction", "op": "gt", "value": "3"}),
        "is not a data field of this action",
    ),
    (
        "requirements",
        _set("requirements.0.where.0", {"field": "content_length", "op": "gte", "value": "x"}),
        "must be a number",
    ),
    ("rewards", _set("rewards.dgt", "1e3"), "rewards.dgt"),
    ("rewards", _set("rewards.dgt", "0.000000001"), "more than 8 decimal places"),
    ("rewards", _set("rewards.xp", -5), "rewards.xp"),
    ("rewards", _set("rewards.items.0.qty", 0), "rewards.items"),
    ("prerequisites", _set("prerequisites.min_streak", -1), "prerequisites.min_streak"),
    ("prerequisites", _set("prerequisites.badges", ["Not A Key"]), "prerequisites.badges"),
    ("metadata", _set("metadata.difficulty", "brutal"), "metadata.difficulty"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "change", "expected"), BAD_BUILDER_INPUT)
def test_each_builder_fields_bad_input_shows_its_error_on_that_field(
    admin_client: Any, field: str, change: Any, expected: str
) -> None:
    response = admin_client.post(ADD, form_data(SPEC_EXAMPLE, _bad(change)))
    errors = errors_of(response)
    assert field in errors, errors
    assert any(expected in message for message in errors[field]), errors[field]
    assert not MissionTemplate.objects.exists()


@pytest.mark.django_db
def test_an_error_is_also_shown_on_the_editor_row_that_caused_it(admin_client: Any) -> None:
    response = admin_client.post(
        ADD, form_data(SPEC_EXAMPLE, _bad(_set("requirements.0.target", "-1")))
    )
    widget = response.context["adminform"].form.fields["requirements"].widget
    assert "between 1" in str(widget.error_map["0§target"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mission_type", "expected"),
    [
        ("timebound", "metadata.time_limit_minutes: is required for timebound"),
        ("competitive", "metadata.reward_tiers: is required for competitive"),
        ("combo", "a combo mission needs at least two"),
        ("threshold", "requirements.quality_posts.field: is required for threshold"),
    ],
)
def test_each_types_own_settings_are_checked(
    admin_client: Any, mission_type: str, expected: str
) -> None:
    template = {**SPEC_EXAMPLE, "type": mission_type}
    errors = errors_of(admin_client.post(ADD, form_data(template, SPEC_EXAMPLE_BUILDER)))
    assert any(expected in m for messages in errors.values() for m in messages), errors


@pytest.mark.django_db
def test_plain_fields_show_the_validators_errors(admin_client: Any) -> None:
    template = {**SPEC_EXAMPLE, "name": "", "key": "Bad Key"}
    errors = errors_of(admin_client.post(ADD, form_data(template, SPEC_EXAMPLE_BUILDER)))
    assert "is required" in errors["name"][0]
    assert "slug" in errors["key"][0] or "lowercase letters" in errors["key"][0]


@pytest.mark.django_db
def test_broken_raw_json_shows_line_and_column(admin_client: Any) -> None:
    data = form_data(SPEC_EXAMPLE, SPEC_EXAMPLE_BUILDER)
    data["use_raw_json"] = "on"
    data["raw_json"] = '{\n  "key": "x",\n  "name": oops\n}'
    errors = errors_of(admin_client.post(ADD, data))
    assert errors["raw_json"] == ["line 3, column 11: Expecting value"]


@pytest.mark.django_db
def test_raw_json_is_saved_through_the_same_validator(admin_client: Any) -> None:
    data = form_data(SPEC_EXAMPLE, SPEC_EXAMPLE_BUILDER)
    data["use_raw_json"] = "on"
    raw = {**SPEC_EXAMPLE, "key": "raw_one", "rewards": {"xp": 7, "dgt": "0.25"}}
    data["raw_json"] = json.dumps(raw)
    response = admin_client.post(ADD, data)
    assert response.status_code == 302, errors_of(response)
    assert saved("raw_one")["rewards"] == {"xp": 7, "dgt": "0.25"}
    raw["rewards"] = {"xp": 1.5}
    data["raw_json"] = json.dumps({**raw, "key": "raw_two"})
    errors = errors_of(admin_client.post(ADD, data))
    assert any("rewards.xp" in m for m in errors["raw_json"]), errors


@pytest.mark.django_db
def test_changing_the_type_swaps_the_editors_and_keeps_what_was_entered(admin_client: Any) -> None:
    rows = SPEC_EXAMPLE_BUILDER["requirements"]
    response = admin_client.get(
        "/admin/missions/missiontemplate/builder/fields/",
        {"type": "timebound", "requirements": json.dumps(rows), "metadata": '{"icon": "pen"}'},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="builder-type-help" class="builder-type-help" hx-swap-oob="true"' in body
    assert "time limit" in body and "Time limit (minutes)" in body
    assert "quality_posts" in body
    streak = admin_client.get(
        "/admin/missions/missiontemplate/builder/fields/", {"type": "streak"}
    ).content.decode()
    assert "Unit" in streak and "Time limit (minutes)" not in streak


@pytest.mark.django_db
def test_the_add_page_renders_the_editors(admin_client: Any) -> None:
    body = admin_client.get(ADD).content.decode()
    assert "data-django-jsonform" in body
    assert "post:created \\u2014 post_id (int)" in body
    assert "htmx-2.0.11.min.js" in body


@pytest.mark.django_db
def test_the_preview_renders_the_unsaved_draft_with_the_hubs_card_template(
    admin_client: Any,
) -> None:
    data = form_data(SPEC_EXAMPLE, SPEC_EXAMPLE_BUILDER)
    data["preview_share"] = "100"
    response = admin_client.post("/admin/missions/missiontemplate/builder/preview/", data)
    assert response.status_code == 200
    used = [t.name for t in response.templates]
    assert "missions/_card.html" in used
    body = html.unescape(response.content.decode())
    assert body.count("<iframe") == 2 and "390 px" in body
    assert "Quality Poster" in body and "+10.5 DGT" in body
    assert '<span class="cur">3</span> / <span class="tgt">3</span>' in body
    assert "Claim rewards!" in body
    assert not MissionTemplate.objects.exists()


@pytest.mark.django_db
def test_the_preview_of_a_broken_draft_still_renders_and_lists_the_problems(
    admin_client: Any,
) -> None:
    data = form_data(SPEC_EXAMPLE, _bad(_set("requirements.0.target", "-1")))
    response = admin_client.post("/admin/missions/missiontemplate/builder/preview/", data)
    body = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "Quality Poster" in body
    assert "requirements.quality_posts.target" in body
