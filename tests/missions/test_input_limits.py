"""Template and event limits (issue 8, defect 8): metadata size, `in` list length, and a
signed zero is not an amount."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from missions.errors import TemplateInvalid
from missions.services.ingest import events_ingest
from missions.validation import validate_template
from tests.factories import UserFactory

from .test_validation import GOOD

pytestmark = pytest.mark.django_db


def _errors(template: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(TemplateInvalid) as caught:
        validate_template(template)
    return caught.value.errors


def test_metadata_over_the_size_limit_is_refused_naming_the_limit() -> None:
    template = copy.deepcopy(GOOD)
    template["metadata"] = {
        "icon": "pen",
        "notes": "x" * settings.MISSIONS_MAX_TEMPLATE_METADATA_BYTES,
    }
    limit = settings.MISSIONS_MAX_TEMPLATE_METADATA_BYTES
    [message] = _errors(template)["metadata"]
    assert message.endswith(f"bytes; the limit is {limit}")


def test_an_in_list_over_the_limit_is_refused_naming_the_limit() -> None:
    template = copy.deepcopy(GOOD)
    limit = settings.MISSIONS_MAX_IN_VALUES
    template["requirements"]["quality_posts"]["where"] = {
        "forum_id": {"in": list(range(limit + 1))}
    }
    assert _errors(template) == {
        "requirements.quality_posts.where.forum_id.in": [
            f"lists {limit + 1} values; the limit is {limit}"
        ]
    }
    template["requirements"]["quality_posts"]["where"]["forum_id"]["in"] = list(range(limit))
    validate_template(template)


def test_load_templates_names_both_limits(tmp_path: Path) -> None:
    huge = copy.deepcopy(GOOD)
    huge["metadata"] = {"notes": "x" * 5_000_000}
    huge["requirements"]["quality_posts"]["where"] = {"forum_id": {"in": list(range(100_000))}}
    path = tmp_path / "t.json"
    path.write_text(json.dumps([huge]))
    with pytest.raises(CommandError) as caught:
        call_command("load_templates", str(path))
    assert "metadata: is 5000013 bytes; the limit is" in str(caught.value)
    assert "where.forum_id.in: lists 100000 values; the limit is" in str(caught.value)


@pytest.mark.parametrize("zero", ["-0", "-0.0", "-0.00000000"])
def test_a_signed_zero_is_not_a_reward_amount(zero: str) -> None:
    template = copy.deepcopy(GOOD)
    template["rewards"]["dgt"] = zero
    assert _errors(template) == {"rewards.dgt": [f"must not be negative, got {zero!r}"]}


@pytest.mark.parametrize("zero", ["-0", "-0.0"])
def test_a_signed_zero_is_not_an_event_amount(zero: str) -> None:
    user = UserFactory()
    event = {"id": "tip-1", "user_id": user.pk, "action": "tip:sent", "data": {"amount": zero}}
    result = events_ingest(events=[event])
    assert result.accepted == 0
    assert result.rejected[0].errors == {"data.amount": [f"must not be negative, got {zero}"]}
