"""Schemathesis over every operation of the served `/api/schema/`, once with a player token
and once with a service key: no 5xx, and every response conforms to the schema (status code
documented, content type, body). The number of examples per operation is bounded so the run
stays within a minute or two (SCHEMATHESIS_EXAMPLES)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import TemplateFactory, UserFactory

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def served_schema(db: None) -> Iterator[Any]:
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    # The schema as the server serves it, and the whole Django stack behind it, in-process.
    # As Django's test client does, keep the test's connection (and its transaction) open
    # across requests.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def player_token(db: None) -> dict[str, str]:
    from tests.serving.tokens import api_token

    TemplateFactory(key="daily_post", name="Daily Post")
    player = UserFactory(username="fuzzed")
    return {"Authorization": f"Token {api_token(player)}"}


@pytest.fixture
def service_key(db: None) -> dict[str, str]:
    from missions.services.service_keys import service_key_create

    UserFactory(username="fuzzed")
    _, raw = service_key_create(name="fuzzer")
    return {"Authorization": f"Bearer {raw}"}


BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def fuzz_every_operation(schema: Any, headers: dict[str, str]) -> list[str]:
    """Each operation of the schema with its own bounded Hypothesis run; the failures, named.

    (The operations are walked here rather than through schemathesis' pytest plugin, which
    reads a private attribute pytest 9 no longer has.)"""
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9, "the served schema lost its operations"
    for operation in operations:

        @given(case=operation.as_strategy())
        @BOUNDED
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    return failures


def test_every_operation_with_a_player_token(
    served_schema: Any, player_token: dict[str, str]
) -> None:
    failures = fuzz_every_operation(served_schema, player_token)
    assert not failures, "\n\n".join(failures)


def test_every_operation_with_a_service_key(
    served_schema: Any, service_key: dict[str, str]
) -> None:
    failures = fuzz_every_operation(served_schema, service_key)
    assert not failures, "\n\n".join(failures)


def test_an_api_url_that_matches_no_endpoint_gets_the_json_error(client: Any) -> None:
    # Found by the run above: a leaderboard key that is not a slug got Django's HTML page.
    response = client.get("/api/v1/leaderboards/not%20a%20slug")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "No API endpoint matches this URL."}
    assert client.get("/no-such-page").headers["Content-Type"].startswith("text/html")
