"""Presence: who has a socket open, so pushes skip players who are not looking."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import UserFactory


@pytest.fixture
def alice(db: None) -> Any:
    return UserFactory(username="alice")


def test_presence_falls_back_to_everyone_when_the_cache_is_down(alice: Any) -> None:
    from django.test import override_settings

    from missions.player.live import online_user_ids, presence_join
    from tests.conftest import DEAD_CACHE

    with override_settings(CACHES=DEAD_CACHE):
        presence_join(alice.pk)  # logs, never raises
        assert online_user_ids([alice.pk, 99]) == {alice.pk, 99}


@pytest.mark.django_db
def test_a_rollover_for_players_not_looking_loads_and_sends_nothing(alice: Any) -> None:
    from datetime import UTC, datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from missions.player.live import presence_join
    from missions.player.receivers import push_new_missions
    from missions.services import missions_assign
    from tests.factories import TemplateFactory

    TemplateFactory(key="daily_post")
    bob = UserFactory(username="bob")
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    created = missions_assign(user_ids=[alice.pk, bob.pk], now=now)
    with CaptureQueriesContext(connection) as nobody_online:
        push_new_missions(sender=None, missions=created)
    assert len(nobody_online) == 0
    presence_join(bob.pk)
    with CaptureQueriesContext(connection) as bob_online:
        push_new_missions(sender=None, missions=created)
    assert len(bob_online) > 0  # bob's mission is loaded to be pushed
