from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from streaks.models import Streak
from streaks.services import streak_record
from tests.rewards.helpers import player


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_completions_of_the_same_day_count_it_once() -> None:
    user = player()
    streak_record(user_id=user.pk, kind="daily", at=datetime(2026, 11, 26, 9, tzinfo=UTC))
    start = threading.Barrier(10)
    errors: list[BaseException] = []

    def record() -> None:
        try:
            start.wait()
            streak_record(user_id=user.pk, kind="daily", at=datetime(2026, 11, 27, 9, tzinfo=UTC))
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    s = Streak.objects.get(user=user, kind="daily")
    assert (s.current, s.best) == (2, 2)
