"""The ingestion counters, read in-process (prometheus_client's registry): each call counts
its accepted, duplicate and rejected events once, after its commit, and observes its latency
once when it accepted any. tests/missions/test_metrics.py checks what /metrics exports from
real server processes; these are the ingestion service's own known answers, whichever way a
call ends (stored, all repeats, all rejected, all for unknown players)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction
from prometheus_client import REGISTRY

from missions.services.ingest import events_ingest
from tests.factories import UserFactory

from .engine import event

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)


def counts() -> dict[str, float]:
    def read(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    return {
        "accepted": read("mission_events_total", result="accepted"),
        "duplicate": read("mission_events_total", result="duplicate"),
        "rejected": read("mission_events_total", result="rejected"),
        "latencies": read("mission_progress_latency_ms_count"),
    }


def growth(before: dict[str, float]) -> dict[str, float]:
    after = counts()
    return {name: after[name] - before[name] for name in after}


def ingest(events: list[dict[str, Any]], capture: Any) -> dict[str, float]:
    """One call, its after-commit callbacks run; returns how much each counter grew."""
    before = counts()
    with capture(execute=True):
        events_ingest(events=events, now=NOW)
    return growth(before)


def test_a_mixed_batch_counts_each_result_once_after_its_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = UserFactory()
    sent = [event(user.pk, "post:created", when=NOW, event_id="sent-before")]
    ingest(sent, django_capture_on_commit_callbacks)
    batch = [
        event(user.pk, "post:created", when=NOW, event_id="m1"),
        event(user.pk, "post:created", when=NOW, event_id="m1"),  # repeated in the batch
        event(user.pk, "post:created", when=NOW, event_id="sent-before"),  # already stored
        event(user.pk, "post:created", when=NOW, event_id="m2"),
        event(user.pk, "no:such-action", when=NOW, event_id="bad"),  # rejected: action
        event(999_999, "post:created", when=NOW, event_id="ghost"),  # rejected: no such user
    ]
    before = counts()
    with django_capture_on_commit_callbacks() as callbacks:
        result = events_ingest(events=batch, now=NOW)
    assert (result.accepted, result.duplicates, len(result.rejected)) == (2, 2, 2)
    assert growth(before) == dict.fromkeys(before, 0.0), "nothing counts before the commit"
    for callback in callbacks:
        callback()
    assert growth(before) == {"accepted": 2, "duplicate": 2, "rejected": 2, "latencies": 1}


def test_a_batch_of_repeats_counts_its_duplicates_and_no_latency(
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = UserFactory()
    first = [event(user.pk, "post:created", when=NOW, event_id=f"r{n}") for n in range(3)]
    assert ingest(first, django_capture_on_commit_callbacks) == {
        "accepted": 3,
        "duplicate": 0,
        "rejected": 0,
        "latencies": 1,
    }
    assert ingest(first, django_capture_on_commit_callbacks) == {
        "accepted": 0,
        "duplicate": 3,
        "rejected": 0,
        "latencies": 0,
    }


def test_a_batch_rejected_whole_counts_its_rejections(
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = UserFactory()
    # Rejected by validation: nothing is locked or stored (the early return).
    invalid = [
        event(user.pk, "no:such-action", when=NOW, event_id="x1"),
        {"id": "x2", "user_id": user.pk},
        event(user.pk, "no:such-action", when=NOW, event_id="x3"),
    ]
    assert ingest(invalid, django_capture_on_commit_callbacks) == {
        "accepted": 0,
        "duplicate": 0,
        "rejected": 3,
        "latencies": 0,
    }
    # Valid events of players who do not exist: rejected after the lock (the second return).
    ghosts = [event(999_998, "post:created", when=NOW), event(999_999, "post:created", when=NOW)]
    assert ingest(ghosts, django_capture_on_commit_callbacks) == {
        "accepted": 0,
        "duplicate": 0,
        "rejected": 2,
        "latencies": 0,
    }


def test_a_rolled_back_batch_counts_nothing(django_capture_on_commit_callbacks: Any) -> None:
    user = UserFactory()
    before = counts()

    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        events_ingest(events=[event(user.pk, "post:created", when=NOW)], now=NOW)
        raise Abort
    assert callbacks == []
    assert growth(before) == dict.fromkeys(before, 0.0)
