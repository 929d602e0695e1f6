"""Two batches sharing event ids for different users (issue 8, defect 7): they used to
deadlock (7 of 20 answered 500). Rows now go in in one order; a retryable conflict that
still happens answers 409 with Retry-After, never 500."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import OperationalError, connection, connections, transaction
from rest_framework.test import APIClient

from missions.errors import api_exception_handler
from missions.models import Event
from missions.services.ingest import events_ingest
from missions.services.service_keys import service_key_create
from tests.factories import UserFactory

PAIRS = 20
IDS = 40


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_batches_sharing_ids_for_different_users_never_deadlock() -> None:
    first, second = UserFactory(), UserFactory()
    key = service_key_create(name="forum")[1]
    start = threading.Barrier(2)

    def send(user_id: int, ids: list[str]) -> tuple[int, Any]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        events = [{"id": i, "user_id": user_id, "action": "post:created"} for i in ids]
        try:
            start.wait(timeout=30)
            response = client.post("/api/v1/events", {"events": events}, format="json")
            return response.status_code, response.json()
        finally:
            connection.close()

    results = []
    with ThreadPoolExecutor(2) as pool:
        for pair in range(PAIRS):
            ids = [f"p{pair}-{i:03d}" for i in range(IDS)]
            # The same ids in opposite orders: the old insert order locked them crosswise.
            jobs = [
                pool.submit(send, first.pk, ids),
                pool.submit(send, second.pk, list(reversed(ids))),
            ]
            results.append([job.result(timeout=60) for job in jobs])

    statuses = [status for pair in results for status, _ in pair]
    assert statuses == [200] * (2 * PAIRS), statuses
    for pair in results:
        accepted = sum(body["accepted"] for _, body in pair)
        duplicates = sum(body["duplicates"] for _, body in pair)
        assert (accepted, duplicates) == (IDS, IDS)  # each id stored once, by one of the two
    assert Event.objects.count() == PAIRS * IDS


@pytest.mark.django_db
def test_log_order_within_a_batch_is_still_batch_order() -> None:
    user = UserFactory()
    ids = ["c", "a", "b"]
    events_ingest(events=[{"id": i, "user_id": user.pk, "action": "post:created"} for i in ids])
    assert list(Event.objects.order_by("id").values_list("event_id", flat=True)) == ids


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_deadlock_answers_409_with_retry_after_not_500() -> None:
    first, second = UserFactory(), UserFactory()
    locked = threading.Barrier(2)
    caught: list[OperationalError] = []

    def cross(mine: int, theirs: int) -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM auth_user WHERE id = %s FOR UPDATE", [mine])
                locked.wait(timeout=30)
                cursor.execute("SELECT 1 FROM auth_user WHERE id = %s FOR UPDATE", [theirs])
        except OperationalError as exc:  # Postgres picks one of the two as the victim
            caught.append(exc)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(cross, [first.pk, second.pk], [second.pk, first.pk]))

    assert len(caught) == 1
    response = api_exception_handler(caught[0], {})
    assert response is not None
    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert response.data["error"] == "conflict_retry"
