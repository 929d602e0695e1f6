"""Deeply nested JSON is a 400 naming the limit everywhere JSON comes in (issue 8, defect 4:
it was a RecursionError, i.e. a 500 or a traceback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import settings as settings_hypothesis
from hypothesis import strategies as st
from rest_framework.test import APIClient

from missions import json_limits
from missions.errors import TemplateInvalid, ValidationFailed
from missions.services.ingest import events_ingest, track
from missions.services.service_keys import service_key_create
from missions.validation import validate_template
from tests.factories import UserFactory

LIMIT_TEXT = f"deeper than {settings.JSON_MAX_DEPTH} levels (the limit)"
# Far past the interpreter's recursion limit, and just past ours.
HUGE_DEPTH = 100_000
JUST_PAST = settings.JSON_MAX_DEPTH + 1


def nested_text(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def post_raw(url: str, text: str, **headers: str) -> Any:
    return APIClient().generic(
        "POST", url, text.encode(), content_type="application/json", **headers
    )


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [HUGE_DEPTH, JUST_PAST])
def test_the_token_endpoint_refuses_deep_json_naming_the_limit(depth: int) -> None:
    response = post_raw("/api/v1/auth/token", nested_text(depth))
    assert response.status_code == 400
    assert response.json()["error"] == "too_deep"
    assert LIMIT_TEXT in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [HUGE_DEPTH, JUST_PAST])
def test_the_events_endpoint_refuses_deep_event_data_naming_the_limit(depth: int) -> None:
    user = UserFactory()
    key = service_key_create(name="forum")[1]
    event = f'{{"id": "e1", "user_id": {user.pk}, "action": "post:created", "data": {{}}}}'
    body = '{"events": [' + event.replace("{}", nested_text(depth)) + "]}"
    response = post_raw("/api/v1/events", body, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 400
    assert LIMIT_TEXT in response.json()["detail"]


@pytest.mark.django_db
def test_in_process_events_with_deep_data_are_rejected_naming_the_limit() -> None:
    user = UserFactory()
    result = events_ingest(
        events=[{"id": "e1", "user_id": user.pk, "action": "post:created", "data": nested(5000)}]
    )
    assert result.accepted == 0
    assert result.rejected[0].errors == {"event": [f"nests {LIMIT_TEXT}"]}
    with pytest.raises(ValidationFailed):
        track(user, "post:created", nested(JUST_PAST))


@pytest.mark.django_db
def test_the_template_validator_refuses_deep_json_naming_the_limit() -> None:
    with pytest.raises(TemplateInvalid) as caught:
        validate_template({"key": "deep", "metadata": nested(5000)})
    assert caught.value.errors == {"template": [f"nests {LIMIT_TEXT}"]}


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [HUGE_DEPTH, JUST_PAST])
def test_load_templates_refuses_a_deep_file_naming_the_limit(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" + nested_text(depth) + "]")
    with pytest.raises(CommandError, match=r"the file nests deeper than \d+ levels"):
        call_command("load_templates", str(path))


@pytest.mark.django_db
def test_load_templates_refuses_a_file_over_the_size_limit(tmp_path: Path, settings: Any) -> None:
    settings.MISSIONS_MAX_TEMPLATE_FILE_BYTES = 1000
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"key": "x" * 2000}]))
    with pytest.raises(CommandError, match="the limit is 1000"):
        call_command("load_templates", str(path))


def _builder_post(admin_client: Any, **fields: str) -> Any:
    return admin_client.post(
        "/admin/missions/missiontemplate/add/",
        {
            "key": "deep",
            "name": "Deep",
            "category": "social",
            "type": "count",
            "period_type": "daily",
            "weight": 100,
            "min_level": 1,
            "requirements": "[]",
            "rewards": "{}",
            "prerequisites": "{}",
            "metadata": "{}",
            **fields,
        },
    )


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [HUGE_DEPTH, JUST_PAST])
def test_the_admin_builder_shows_the_depth_limit(admin_client: Any, depth: int) -> None:
    response = _builder_post(admin_client, metadata=nested_text(depth))
    assert response.status_code == 200
    assert LIMIT_TEXT in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [HUGE_DEPTH, JUST_PAST])
def test_the_admin_raw_json_shows_the_depth_limit(admin_client: Any, depth: int) -> None:
    raw = '{"key": "deep", "metadata": ' + nested_text(depth) + "}"
    response = _builder_post(admin_client, use_raw_json="on", raw_json=raw)
    assert response.status_code == 200
    assert LIMIT_TEXT in response.content.decode()


@pytest.mark.django_db
def test_json_that_is_not_json_numbers_is_refused() -> None:
    response = post_raw("/api/v1/auth/token", '{"username": NaN}')
    assert response.status_code == 400
    assert response.json()["error"] == "parse_error"


# The fast parser (orjson) answers only where it agrees with Python's parser; everything else
# takes Python's parser, so values, types and errors are what they were.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**62, max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


def _python_parse(text: str) -> tuple[str, Any]:
    try:
        value = json.loads(text, parse_constant=json_limits._refuse_constant)
    except ValueError as exc:
        return "error", str(exc)
    return "value", json.dumps(value)


def _limited_parse(text: str) -> tuple[str, Any]:
    try:
        value = json_limits.json_loads_limited(text, max_bytes=10**7, max_depth=1000)
    except ValueError as exc:
        return "error", str(exc)
    return "value", json.dumps(value)


@settings_hypothesis(max_examples=300, deadline=None)
@given(value=JSON_VALUES, ascii_only=st.booleans())
def test_the_fast_parser_reads_every_value_as_python_does(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    # json.dumps of the result: an int stays an int (not 1e+20), -0.0 stays -0.0.
    assert _limited_parse(text) == _python_parse(text)


@settings_hypothesis(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list('{}[]",:0123456789.eE+-truefalsn \\u')), max_size=40)
    | st.sampled_from(
        ['"\\ud800"', "[1e400]", "NaN", "[-Infinity]", "\ufeff{}", "123456789012345678901", "-0"]
    )
)
def test_the_fast_parser_fails_where_python_fails_with_the_same_error(text: str) -> None:
    assert _limited_parse(text) == _python_parse(text)
