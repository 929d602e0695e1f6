"""POST /api/v1/events: the exact contract of SPEC.md."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from missions.models import Event, MissionProgress, ServiceKey
from missions.services.service_keys import service_key_create, service_key_revoke
from tests.factories import UserFactory

from .engine import make_template, req

URL = "/api/v1/events"


@pytest.fixture
def player() -> Any:
    make_template(period_type="perpetual", requirements={"posts": req(target=5)})
    return UserFactory()


@pytest.fixture
def key() -> str:
    return service_key_create(name="forum")[1]


def post(body: Any, key: str | None, *, raw: bytes | None = None) -> Any:
    client = APIClient()
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    data = raw if raw is not None else json.dumps(body).encode()
    return client.generic("POST", URL, data, content_type="application/json")


def ev(user_id: int, event_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": event_id, "user_id": user_id, "action": "post:created", **extra}


def posts(user: Any) -> int:
    return int(MissionProgress.objects.get(user=user).current)


@pytest.mark.django_db
def test_it_accepts_a_batch_and_applies_it(player: Any, key: str) -> None:
    response = post({"events": [ev(player.pk, "a"), ev(player.pk, "b")]}, key)
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert posts(player) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [None, "Bearer nope", "Token abc", "Bearer", "Bearer two words"],
    ids=["missing", "wrong", "player-token-scheme", "empty", "malformed"],
)
def test_it_refuses_without_a_valid_service_key(player: Any, header: str | None) -> None:
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.post(URL, {"events": [ev(player.pk, "a")]}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] in ("not_authenticated", "authentication_failed")
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_revoked_key(player: Any) -> None:
    stored, raw = service_key_create(name="old")
    service_key_revoke(key_id=stored.pk)
    response = post({"events": [ev(player.pk, "a")]}, raw)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_a_player_session_is_not_a_service(player: Any) -> None:
    client = APIClient()
    client.force_authenticate(player)
    response = client.post(URL, {"events": [ev(player.pk, "a")]}, format="json")
    assert response.status_code in (401, 403)
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_keys_are_stored_hashed_and_the_command_prints_one_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("create_service_key", "shop")
    raw = capsys.readouterr().out.strip()
    stored = ServiceKey.objects.get(name="shop")
    assert raw.startswith("msk_") and raw not in (stored.key_hash, stored.prefix)
    assert len(stored.key_hash) == 64


@pytest.mark.django_db
def test_over_1000_events_is_400_and_keeps_nothing(player: Any, key: str) -> None:
    events = [ev(player.pk, f"e{i}") for i in range(1001)]
    response = post({"events": events}, key)
    assert response.status_code == 400
    assert response.json()["errors"] == {"events": ["must hold at most 1000 events, got 1001"]}
    assert not Event.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[]", b'{"events": {}}', b'"events"', b'{"evts": []}', b"null"],
    ids=["malformed", "list", "events-not-list", "string", "no-events", "null"],
)
def test_a_body_that_is_not_a_batch_is_400(player: Any, key: str, raw: bytes) -> None:
    response = post(None, key, raw=raw)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] and body["detail"]
    assert not Event.objects.exists()


@pytest.mark.django_db
@override_settings(MISSIONS_MAX_BATCH=2, MISSIONS_MAX_EVENT_DATA_BYTES=100)
def test_a_body_larger_than_a_full_batch_is_413(player: Any, key: str) -> None:
    events = [ev(player.pk, "a", data={"content_length": 1}), ev(player.pk, "x" * 190)]
    padding = {"events": events, "pad": "y" * 3000}
    response = post(padding, key)
    assert response.status_code == 413
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_partial_rejection_keeps_the_good_events(player: Any, key: str) -> None:
    batch = [
        ev(player.pk, "good-1", data={"content_length": 120}),
        ev(player.pk, "bad-type", data={"content_length": "long"}),
        {"id": "bad-action", "user_id": player.pk, "action": "post:nuked"},
        ev(player.pk, "big", data={"content_length": 1, "has_media": True, "post_id": 1}),
        "not an object",
        ev(player.pk, "bad-time", occurred_at="yesterday"),
        {"user_id": player.pk, "action": "post:created"},
        ev(player.pk, "good-2"),
    ]
    response = post({"events": batch}, key)
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 3 and body["duplicates"] == 0
    assert body["rejected"] == [
        {
            "index": 1,
            "id": "bad-type",
            "errors": {"data.content_length": ["must be a whole number, got str"]},
        },
        {
            "index": 2,
            "id": "bad-action",
            "errors": {"action": ["'post:nuked' is not in the action catalog"]},
        },
        {"index": 4, "id": None, "errors": {"event": ["must be an object"]}},
        {
            "index": 5,
            "id": "bad-time",
            "errors": {"occurred_at": ["must be an ISO-8601 date-time"]},
        },
        {
            "index": 6,
            "id": None,
            "errors": {"id": ["is required: the sender's unique event id (a string)"]},
        },
    ]
    assert posts(player) == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ({"occurred_at": "0001-01-01T00:00:00+01:00"}, "occurred_at", "is out of range"),
        ({"occurred_at": "1999-12-31T23:59:59Z"}, "occurred_at", "is before 2000-01-01"),
        ({"id": "a\u0000b"}, "event", "contains a NUL character"),
        ({"id": "\ud800x"}, "event", "is not valid Unicode text"),
        (
            {
                "data": {
                    "post_id": 1,
                    "content_length": 1,
                    "has_media": False,
                    "forum_id": 1,
                    "thread_id": 1,
                },
                "action": "achievement:unlocked",
            },
            "data.post_id",
            "is not a data field",
        ),
        (
            {"action": "achievement:unlocked", "data": {"achievement_key": "a\u0000b"}},
            "event",
            "NUL",
        ),
        ({"id": 5}, "id", "must be a string, got int"),
        ({"user_id": "2"}, "user_id", "must be a positive integer, got str"),
        ({"user_id": 5.0}, "user_id", "must be a positive integer, got float"),
        ({"action": 5}, "action", "must be a string, got int"),
        ({"action": "tip:sent", "data": {"amount": "1e3"}}, "data.amount", "decimal string"),
        ({"action": "tip:sent", "data": {"amount": " 10 "}}, "data.amount", "decimal string"),
        ({"action": "tip:sent", "data": {"amount": "1_000"}}, "data.amount", "decimal string"),
    ],
)
def test_bad_text_times_and_types_are_rejected_alone_and_the_good_events_kept(
    player: Any, key: str, bad: dict[str, Any], field: str, message: str
) -> None:
    raw = json.dumps({"events": [dict(ev(player.pk, "bad"), **bad), ev(player.pk, "good")]})
    response = post(None, key, raw=raw.encode())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 1, body
    rejection = body["rejected"][0]
    assert rejection["index"] == 0
    assert any(message in m for m in rejection["errors"][field]), rejection
    assert Event.objects.filter(event_id="good").exists()
    assert posts(player) == 1


@pytest.mark.django_db
def test_a_valid_decimal_string_amount_is_accepted(player: Any, key: str) -> None:
    body = post(
        {
            "events": [
                {"id": "t", "user_id": player.pk, "action": "tip:sent", "data": {"amount": "10.5"}}
            ]
        },
        key,
    ).json()
    assert body == {"accepted": 1, "duplicates": 0, "rejected": []}


@pytest.mark.django_db
def test_oversized_event_data_is_rejected_alone(player: Any, key: str) -> None:
    from missions.models import ActionType

    ActionType.objects.create(action="note:written", fields={"text": "str", "more": "str"})
    huge = {"text": "x" * 1000, "more": "y" * 1000}
    big = {"id": "big", "user_id": player.pk, "action": "note:written", "data": huge}
    with override_settings(MISSIONS_MAX_EVENT_DATA_BYTES=1500):
        response = post({"events": [big, ev(player.pk, "fine")]}, key)
    body = response.json()
    assert body["accepted"] == 1
    assert body["rejected"][0]["index"] == 0
    assert "the limit is 1500" in body["rejected"][0]["errors"]["data"][0]


@pytest.mark.django_db
def test_duplicate_ids_inside_one_batch_and_across_batches_count_once(
    player: Any, key: str
) -> None:
    first = post({"events": [ev(player.pk, "a"), ev(player.pk, "a"), ev(player.pk, "b")]}, key)
    assert first.json() == {"accepted": 2, "duplicates": 1, "rejected": []}
    again = post({"events": [ev(player.pk, "b"), ev(player.pk, "c"), ev(player.pk, "a")]}, key)
    assert again.json() == {"accepted": 1, "duplicates": 2, "rejected": []}
    assert posts(player) == 3
    assert Event.objects.count() == 3


@pytest.mark.django_db
def test_occurred_at_defaults_to_now_and_is_kept_in_utc(player: Any, key: str) -> None:
    before = timezone.now()
    post(
        {
            "events": [
                ev(player.pk, "a"),
                ev(player.pk, "b", occurred_at="2026-11-27T12:00:00+02:00"),
            ]
        },
        key,
    )
    a, b = Event.objects.order_by("event_id")
    assert a.occurred_at >= before
    assert b.occurred_at.isoformat() == "2026-11-27T10:00:00+00:00"


@pytest.mark.django_db
def test_the_schema_documents_the_endpoint(admin_client: Any) -> None:
    response = admin_client.get("/api/schema/?format=json")
    schema = json.loads(response.content)
    operation = schema["paths"]["/api/v1/events"]["post"]
    assert set(operation["responses"]) >= {"200", "400", "401", "413"}
    result = schema["components"]["schemas"]["EventBatchResult"]
    assert set(result["properties"]) == {"accepted", "duplicates", "rejected"}
