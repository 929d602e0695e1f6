from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

PLAYER_PREFIXES = ("/api/v1/missions", "/api/v1/me", "/api/v1/streaks", "/api/v1/history")


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_is_valid_openapi_3() -> None:
    schema = _schema()
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


def test_every_player_operation_documents_its_errors_with_the_one_error_shape() -> None:
    schema = _schema()
    player_ops = [
        (path, method, op)
        for path, ops in schema["paths"].items()
        if path.startswith(PLAYER_PREFIXES) or path.startswith("/api/v1/leaderboards")
        for method, op in ops.items()
    ]
    assert player_ops
    for path, method, op in player_ops:
        responses = op["responses"]
        assert "200" in responses, (path, method)
        assert "401" in responses, f"{method} {path} does not document 401"
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (path, method, code)


def test_missions_document_the_filters_and_the_404() -> None:
    schema = _schema()
    listing = schema["paths"]["/api/v1/missions"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"period", "status"}
    assert "400" in listing["responses"]
    assert "404" in schema["paths"]["/api/v1/missions/{mission_id}"]["get"]["responses"]


def test_token_and_session_auth_are_documented() -> None:
    schemes = _schema()["components"]["securitySchemes"]
    assert {"tokenAuth", "cookieAuth"} <= set(schemes)


@pytest.mark.django_db
def test_swagger_ui_is_served_without_a_cdn(client: Client) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "cdn.jsdelivr" not in body and "unpkg.com" not in body
    bundle = re.search(r'src="(/static/[^"]*swagger-ui-bundle\.js)"', body)
    assert bundle, "Swagger UI bundle is not served from our static files"
    assert client.get(bundle.group(1)).status_code == 200


def test_the_schema_generates_without_warnings(tmp_path: Any) -> None:
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
