"""/metrics: exact counts after a scripted sequence served by two real server processes that
share one PROMETHEUS_MULTIPROC_DIR, and the in-process recording rules (after the commit)."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Sum
from prometheus_client.parser import text_string_to_metric_families

from missions import metrics
from missions.metrics_export import metrics_text
from missions.models import ActiveMission, MissionState
from missions.services import events_ingest
from missions.services.service_keys import service_key_create
from rewards.models import LedgerEntry
from tests.factories import TemplateFactory, UserFactory, requirement
from tests.servers import asgi_servers
from tests.serving.tokens import api_token


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """name + labels -> value, from the Prometheus text format."""
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def post(action: str, user_id: int, event_id: str, **data: Any) -> dict[str, Any]:
    return {"id": event_id, "user_id": user_id, "action": action, "data": data}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_metrics_count_exactly_what_two_server_processes_did(tmp_path: Path) -> None:
    TemplateFactory(
        key="metrics_posts",
        category="content",
        type="count",
        period_type="perpetual",
        requirements={"posts": requirement("post:created", target=2)},
        rewards={"xp": 10, "dgt": "1.5", "items": [{"key": "streak_freeze", "qty": 2}]},
    )
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    tokens = {u.pk: api_token(u) for u in (alice, bob)}
    service = {"Authorization": f"Bearer {service_key_create(name='forum')[1]}"}
    shared = tmp_path / "prometheus"
    shared.mkdir()

    with asgi_servers(2, tmp_path, {"PROMETHEUS_MULTIPROC_DIR": str(shared)}) as (one, two):
        # Server one: 3 good events (alice completes), 1 rejected (unknown action).
        status, body = one.request(
            "POST",
            "/api/v1/events",
            headers=service,
            body={
                "events": [
                    post("post:created", alice.pk, "a1"),
                    post("post:created", alice.pk, "a2"),
                    post("post:created", bob.pk, "b1"),
                    post("post:nonsense", bob.pk, "x1"),
                ]
            },
        )
        assert status == 200 and body["accepted"] == 3 and len(body["rejected"]) == 1, body
        # Server two: a repeat of a1 (duplicate) and bob's second post (he completes).
        status, body = two.request(
            "POST",
            "/api/v1/events",
            headers=service,
            body={
                "events": [post("post:created", alice.pk, "a1"), post("post:created", bob.pk, "b2")]
            },
        )
        assert (status, body["accepted"], body["duplicates"]) == (200, 1, 1), body
        missions = {
            m.user_id: m.pk for m in ActiveMission.objects.filter(template__key="metrics_posts")
        }
        # Claims: alice on one, alice again on two (409), bob on two.
        for server, user, expected in ((one, alice, 200), (two, alice, 409), (two, bob, 200)):
            status, body = server.request(
                "POST",
                f"/api/v1/missions/{missions[user.pk]}/claim",
                headers={"Authorization": f"Token {tokens[user.pk]}"},
            )
            assert status == expected, body
        # One socket opened and closed on server two.
        from websockets.sync.client import connect

        with connect(f"{two.url.replace('http', 'ws')}/ws/missions/?token={tokens[bob.pk]}"):
            pass

        status, text = one.request("GET", "/metrics")
        assert status == 200
        found = samples(text)
        _, text_two = two.request("GET", "/metrics")

    assert value(found, "mission_events_total", result="accepted") == 4
    assert value(found, "mission_events_total", result="duplicate") == 1
    assert value(found, "mission_events_total", result="rejected") == 1
    assert (
        value(found, "mission_progress_updates_total", action="post:created", mission_type="count")
        == 4
    )
    assert value(found, "mission_progress_latency_ms_count") == 2  # two ingestion calls
    assert (
        value(
            found, "missions_completed_total", category="content", type="count", period="perpetual"
        )
        == 2
    )
    assert value(found, "mission_claims_total", source="claim", result="granted") == 2
    assert value(found, "mission_claims_total", source="claim", result="already_claimed") == 1
    ledger = LedgerEntry.objects.aggregate(xp=Sum("xp"), dgt=Sum("dgt"))
    assert value(found, "mission_rewards_distributed_total", reward_type="xp") == ledger["xp"]
    assert (
        Decimal(str(value(found, "mission_rewards_distributed_total", reward_type="dgt")))
        == (ledger["dgt"])
    )
    assert value(found, "mission_rewards_distributed_total", reward_type="items") == 4
    assert value(found, "mission_socket_connections_total") == 1
    assert value(found, "mission_socket_connections_open") == 0
    assert (
        value(found, "active_missions_count")
        == ActiveMission.objects.filter(state=MissionState.ACTIVE).count()
    )
    assert not [k for k in found if k[0] == "mission_system_errors_total"]
    # django-prometheus keeps working, for both processes' requests.
    assert value(found, "django_http_requests_total_by_method_total", method="POST") == 5
    # Either process answers for both.
    found_two = samples(text_two)
    assert value(found_two, "mission_events_total", result="accepted") == 4


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_crashed_server_s_open_sockets_stop_counting(tmp_path: Path) -> None:
    from websockets.sync.client import connect

    bob = UserFactory(username="bob")
    token = api_token(bob)
    shared = tmp_path / "prometheus"
    shared.mkdir()
    with asgi_servers(2, tmp_path, {"PROMETHEUS_MULTIPROC_DIR": str(shared)}) as (one, two):
        socket_url = f"{two.url.replace('http', 'ws')}/ws/missions/?token={token}"
        with connect(socket_url), connect(socket_url):
            _, text = one.request("GET", "/metrics")
            assert value(samples(text), "mission_socket_connections_open") == 2
            # Server two dies without closing anything (no shutdown, no disconnect handler).
            assert two.process is not None
            two.process.kill()
            two.process.wait()
            _, text = one.request("GET", "/metrics")
            found = samples(text)
        assert value(found, "mission_socket_connections_open") == 0
        # The counter of connections ever accepted keeps what the dead process counted.
        assert value(found, "mission_socket_connections_total") == 2


@pytest.mark.django_db
def test_a_rolled_back_batch_counts_nothing() -> None:
    TemplateFactory(key="rollback_posts", period_type="perpetual")
    user = UserFactory()
    before = value(samples(metrics_text().decode()), "mission_events_total", result="accepted")

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        events_ingest(events=[post("post:created", user.pk, "r1")])
        raise Abort
    after = value(samples(metrics_text().decode()), "mission_events_total", result="accepted")
    assert after == before


@pytest.mark.django_db
def test_it_counts_a_batch_once_when_it_commits(django_capture_on_commit_callbacks: Any) -> None:
    TemplateFactory(key="commit_posts", period_type="perpetual")
    user = UserFactory()
    before = samples(metrics_text().decode())
    with django_capture_on_commit_callbacks() as callbacks:
        events_ingest(events=[post("post:created", user.pk, f"c{i}") for i in range(3)])
    assert value(samples(metrics_text().decode()), "mission_events_total", result="accepted") == (
        value(before, "mission_events_total", result="accepted")
    ), "nothing counts before the commit"
    for callback in callbacks:
        callback()
    after = samples(metrics_text().decode())
    for result, n in (("accepted", 3), ("duplicate", 0), ("rejected", 0)):
        assert (
            value(after, "mission_events_total", result=result)
            - value(before, "mission_events_total", result=result)
            == n
        )
    name = "mission_progress_updates_total"
    labels = {"action": "post:created", "mission_type": "count"}
    assert value(after, name, **labels) - value(before, name, **labels) == 3


def test_it_refuses_an_unknown_severity() -> None:
    with pytest.raises(ValueError, match="severity"):
        metrics.error_recorded("x", "panic")


@pytest.mark.django_db
def test_the_rollover_helpers_record_reset_duration_and_beat_runs() -> None:
    from datetime import UTC, datetime, timedelta

    from django.core.management import call_command

    before = samples(metrics_text().decode())
    with metrics.reset_timer("daily"):
        pass
    call_command("assign_missions", "--no-progress", stdout=io.StringIO())
    due = datetime(2026, 1, 1, tzinfo=UTC)
    metrics.beat_run_observed("rollover_daily", due_at=due, started_at=due + timedelta(seconds=42))
    after = samples(metrics_text().decode())

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("mission_reset_duration_ms_count", period_type="daily") == 1
    assert grew("mission_reset_duration_ms_count", period_type="all") == 1  # assign_missions
    assert grew("mission_beat_lag_seconds_count", task="rollover_daily") == 1
    assert grew("mission_beat_lag_seconds_sum", task="rollover_daily") == 42
    assert value(after, "mission_beat_last_run_timestamp_seconds", task="rollover_daily") == (
        (due + timedelta(seconds=42)).timestamp()
    )
