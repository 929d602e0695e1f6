"""Signed outgoing webhooks against a real HTTP receiver started by the test."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from missions.webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from missions.webhooks.services import (
    SIGNATURE_HEADER,
    backoff,
    webhook_deliveries_due,
    webhook_signature,
)
from rewards.services.ledger import rewards_grant
from tests.factories import UserFactory
from tests.missions.engine import assign, at, make_template, mission_of, req, send

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
ALL = ["mission.completed", "reward.granted", "streak.extended", "streak.lost"]


def documented_verify() -> Any:
    """The verification snippet exactly as docs/webhooks.md prints it."""
    text = DOC.read_text()
    section = text.split("## Verifying", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "docs/webhooks.md lost its verification snippet"
    lines = [line for line in code.group(1).splitlines() if line.strip()]
    assert len(lines) <= 5, "the documented snippet is promised in 5 lines"
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


def endpoint(url: str, *, events: list[str] | None = None, **extra: Any) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        name="platform", url=url, secret="s3cret-value", events=events or ALL, **extra
    )


def grant(user_id: int, key: str = "admin:1", xp: int = 25, dgt: str = "2.5") -> None:
    rewards_grant(
        user_id=user_id,
        rewards={"xp": xp, "dgt": dgt},
        idempotency_key=key,
        reason="admin grant: welcome",
    )


def test_a_grant_is_delivered_signed_and_the_documented_snippet_verifies_it(
    receiver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory()
    endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        grant(user.pk)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    verify = documented_verify()
    assert verify("s3cret-value", request.headers[SIGNATURE_HEADER], request.body)
    assert not verify("wrong-secret", request.headers[SIGNATURE_HEADER], request.body)
    assert not verify("s3cret-value", request.headers[SIGNATURE_HEADER], request.body + b" ")
    document = json.loads(request.body)
    assert document["type"] == "reward.granted"
    assert request.headers["X-Missions-Event"] == "reward.granted"
    assert document["data"]["xp"] == 25
    assert document["data"]["dgt"] == "2.50000000"
    assert document["data"]["reason"] == "admin grant: welcome"
    assert document["data"]["user_id"] == user.pk
    delivery = WebhookDelivery.objects.get()
    assert str(delivery.event_id) == document["id"]
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200


def test_the_documented_snippet_refuses_an_old_timestamp() -> None:
    verify = documented_verify()
    body = b'{"id":"x"}'
    old = int(time.time()) - 3600
    header = webhook_signature(secret="k", timestamp=old, body=body)
    assert not verify("k", header, body)
    assert verify("k", webhook_signature(secret="k", timestamp=int(time.time()), body=body), body)


@override_settings(WEBHOOKS_BACKOFF_BASE_SECONDS=10, WEBHOOKS_BACKOFF_CAP_SECONDS=25)
def test_a_failing_then_recovering_receiver_gets_the_same_event_after_back_off(
    receiver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory()
    endpoint(receiver.url)
    receiver.script = [500, 503, 500]
    with django_capture_on_commit_callbacks(execute=True):
        grant(user.pk)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    first_retry = delivery.next_attempt_at

    # Not due yet: the sweep leaves it alone.
    assert webhook_deliveries_due(now=first_retry - timedelta(seconds=1)) == 0
    assert len(receiver.requests) == 1
    # 10 s, then 20 s, then capped at 25 s.
    assert backoff(1) == timedelta(seconds=10)
    assert backoff(2) == timedelta(seconds=20)
    assert backoff(3) == timedelta(seconds=25)

    now = first_retry
    for expected_attempts in (2, 3, 4):
        assert webhook_deliveries_due(now=now) == 1
        delivery.refresh_from_db()
        assert delivery.attempts == expected_attempts
        now = delivery.next_attempt_at

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.last_status_code == 200
    assert webhook_deliveries_due(now=now + timedelta(days=1)) == 0
    bodies = {r.body for r in receiver.requests}
    assert len(receiver.requests) == 4 and len(bodies) == 1  # the same bytes each time
    verify = documented_verify()
    assert all(
        verify("s3cret-value", r.headers[SIGNATURE_HEADER], r.body) for r in receiver.requests
    )


@override_settings(WEBHOOKS_MAX_ATTEMPTS=2)
def test_it_gives_up_after_the_maximum_and_redeliver_sends_again(
    receiver: Any, django_capture_on_commit_callbacks: Any, admin_client: Any
) -> None:
    user = UserFactory()
    endpoint(receiver.url)
    receiver.script = [500, 500]
    with django_capture_on_commit_callbacks(execute=True):
        grant(user.pk)
    delivery = WebhookDelivery.objects.get()
    webhook_deliveries_due(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
    assert webhook_deliveries_due(now=timezone.now() + timedelta(days=30)) == 0

    changelist = reverse("admin:webhooks_webhookdelivery_changelist")
    page = admin_client.get(changelist)
    assert page.status_code == 200
    assert b"failed (gave up)" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            changelist, {"action": "redeliver", "_selected_action": [delivery.pk]}
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 3
    assert WebhookDelivery.objects.count() == 1  # a redelivery is the same record


def test_a_rolled_back_grant_sends_nothing_and_stores_nothing(
    receiver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory()
    endpoint(receiver.url)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        grant(user.pk)
        raise RuntimeError("the claim failed after the grant")
    assert callbacks == []
    assert WebhookEvent.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []


def test_one_delivery_record_per_event_and_endpoint(
    receiver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory()
    first = endpoint(receiver.url)
    second = endpoint(receiver.url + "/second", events=["reward.granted"])
    endpoint(receiver.url + "/streaks-only", events=["streak.extended"])
    with django_capture_on_commit_callbacks(execute=True):
        grant(user.pk, key="g1")
        grant(user.pk, key="g1")  # the same idempotency key: no second grant, no second event
        grant(user.pk, key="g2")
    assert WebhookEvent.objects.count() == 2
    pairs = list(WebhookDelivery.objects.values_list("event_id", "endpoint_id"))
    assert len(pairs) == len(set(pairs)) == 4
    assert {endpoint_id for _, endpoint_id in pairs} == {first.pk, second.pk}
    assert len(receiver.requests) == 4
    # A second sweep or a re-sent task changes nothing for delivered ones.
    assert webhook_deliveries_due(now=timezone.now() + timedelta(days=1)) == 0
    from missions.webhooks.tasks import webhook_deliver

    webhook_deliver(WebhookDelivery.objects.first().pk)  # type: ignore[union-attr]
    assert len(receiver.requests) == 4


def test_a_disabled_endpoint_receives_nothing(
    receiver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory()
    hook = endpoint(receiver.url)
    receiver.script = [500]
    with django_capture_on_commit_callbacks(execute=True):
        grant(user.pk, key="before")
    pending = WebhookDelivery.objects.get()
    hook.is_active = False
    hook.save()
    with django_capture_on_commit_callbacks(execute=True):
        grant(user.pk, key="after")
    assert WebhookEvent.objects.count() == 1  # nothing recorded while disabled
    assert webhook_deliveries_due(now=timezone.now() + timedelta(days=1)) == 0
    assert len(receiver.requests) == 1
    pending.refresh_from_db()
    assert pending.status == DeliveryStatus.PENDING  # it waits for the endpoint to return


def test_a_refused_connection_is_an_attempt_that_is_retried(
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = UserFactory()
    endpoint("http://127.0.0.1:1/nothing-listens")
    with django_capture_on_commit_callbacks(execute=True):
        grant(user.pk)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code is None
    assert "Connection refused" in delivery.last_error or "URLError" in delivery.last_error


def test_a_completed_mission_sends_completion_streak_and_claim_events(
    receiver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from rewards.services.claims import mission_claim

    user = UserFactory()
    endpoint(receiver.url)
    template = make_template(requirements={"posts": req(target=1)}, rewards={"xp": 40})
    assign(user.pk, at(0, 9))
    with django_capture_on_commit_callbacks(execute=True):
        send(user.pk, "post:created", when=at(0, 10))
    mission = mission_of(user.pk, template, at(0, 10))
    types = [json.loads(r.body)["type"] for r in receiver.requests]
    assert types.count("mission.completed") == 1
    assert types.count("streak.extended") == 1
    completed = next(
        json.loads(r.body)["data"]
        for r in receiver.requests
        if json.loads(r.body)["type"] == "mission.completed"
    )
    assert completed["mission_id"] == mission.pk
    assert completed["template_key"] == template.key
    assert completed["user_id"] == user.pk
    streak = next(
        json.loads(r.body)["data"]
        for r in receiver.requests
        if json.loads(r.body)["type"] == "streak.extended"
    )
    assert (streak["kind"], streak["current"]) == ("daily", 1)

    with django_capture_on_commit_callbacks(execute=True):
        mission_claim(mission_id=mission.pk, user_id=user.pk, now=at(0, 11))
    granted = [
        json.loads(r.body)["data"]
        for r in receiver.requests
        if json.loads(r.body)["type"] == "reward.granted"
    ]
    assert len(granted) == 1
    assert granted[0]["mission_id"] == mission.pk
    assert granted[0]["idempotency_key"] == f"mission:{mission.pk}"
    assert granted[0]["xp"] >= 40


def test_a_broken_streak_sends_streak_lost_before_the_new_run(
    receiver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from streaks.services import streak_record

    user = UserFactory()
    endpoint(receiver.url, events=["streak.lost", "streak.extended"])
    with django_capture_on_commit_callbacks(execute=True):
        streak_record(user_id=user.pk, kind="daily", at=at(0, 10))
        streak_record(user_id=user.pk, kind="daily", at=at(1, 10))
        streak_record(user_id=user.pk, kind="daily", at=at(4, 10))  # two days missed
    documents = [json.loads(r.body) for r in receiver.requests]
    assert [d["type"] for d in documents] == [
        "streak.extended",
        "streak.extended",
        "streak.lost",
        "streak.extended",
    ]
    lost = documents[2]["data"]
    assert (lost["lost_length"], lost["missed_from"]) == (2, "2026-11-25")
    assert documents[3]["data"]["current"] == 1


def test_the_admin_adds_an_endpoint_with_event_checkboxes(admin_client: Any) -> None:
    add = reverse("admin:webhooks_webhookendpoint_add")
    page = admin_client.get(add)
    assert page.status_code == 200
    assert b'value="reward.granted"' in page.content
    response = admin_client.post(
        add,
        {
            "name": "wallet",
            "url": "https://platform.example/hooks",
            "secret": "abc",
            "events": ["reward.granted", "streak.lost"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    hook = WebhookEndpoint.objects.get(name="wallet")
    assert hook.events == ["reward.granted", "streak.lost"]
    bad = admin_client.post(add, {"name": "x", "url": "not a url", "secret": "abc"})
    assert bad.status_code == 200
    assert b"Enter a valid URL" in bad.content


def test_a_finalised_leaderboard_is_sent_with_its_standings_and_tier_payouts(
    receiver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from rewards.services.competitive import competitive_finalize_due
    from tests.ops.test_competitive import AFTER, competition, play, t

    competition()
    users = play({"ann": [t(0), t(1), t(2)], "bea": [t(0, 1), t(3)], "eve": [t(1)]})
    endpoint(receiver.url, events=["leaderboard.finalised", "reward.granted"])
    with django_capture_on_commit_callbacks(execute=True):
        competitive_finalize_due(now=AFTER)
        competitive_finalize_due(now=AFTER)  # a second run finds nothing and sends nothing
    documents = [json.loads(r.body) for r in receiver.requests]
    finalised = [d["data"] for d in documents if d["type"] == "leaderboard.finalised"]
    assert len(finalised) == 1
    assert finalised[0]["template_key"] == "weekly_top"
    assert finalised[0]["players"] == 2  # eve did not reach the qualifying score
    assert [(s["user_id"], s["rank"], s["tier_rank_to"]) for s in finalised[0]["standings"]] == [
        (users["ann"].pk, 1, 1),
        (users["bea"].pk, 2, 3),
    ]
    granted = sorted(
        (d["data"]["user_id"], d["data"]["xp"]) for d in documents if d["type"] == "reward.granted"
    )
    assert granted == sorted([(users["ann"].pk, 1000), (users["bea"].pk, 300)])


def test_a_completion_whose_process_dies_after_the_commit_is_still_delivered(
    receiver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The events are written with the completion: nothing after the commit has to run
    (here the after-commit callbacks are dropped, as a process killed at that point would)."""
    users = [UserFactory() for _ in range(3)]
    endpoint(receiver.url, events=["mission.completed"])
    template = make_template(requirements={"posts": req(target=1)})
    for user in users:
        assign(user.pk, at(0, 9))
    with django_capture_on_commit_callbacks(execute=False):
        from missions.services.ingest import events_ingest
        from tests.missions.engine import event

        events_ingest(
            events=[event(u.pk, "post:created", when=at(0, 10)) for u in users], now=at(0, 10)
        )
    assert receiver.requests == []
    pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
    assert pending.count() == 3
    assert webhook_deliveries_due(now=timezone.now()) == 3
    delivered = sorted(json.loads(r.body)["data"]["user_id"] for r in receiver.requests)
    assert delivered == sorted(u.pk for u in users)
    assert all(
        json.loads(r.body)["data"]["template_key"] == template.key for r in receiver.requests
    )


def test_a_batch_of_completions_costs_one_endpoint_query_and_two_inserts(
    django_assert_max_num_queries: Any,
) -> None:
    from missions.webhooks.services import webhook_emit_many

    endpoint("http://127.0.0.1:1/x", events=["mission.completed"])
    with django_assert_max_num_queries(5):  # endpoints, events, deliveries, 2 savepoint ops
        events = webhook_emit_many(type="mission.completed", payloads=[{"n": n} for n in range(50)])
    assert len(events) == 50
    assert WebhookDelivery.objects.count() == 50
