"""The two-level player-missions cache (missions/cache.py): never stale after a write, in this
process or another one; the same missions in the same order as the database query."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

import missions
from missions.cache import (
    PLAYER_MISSIONS,
    _token_key,
    player_cache_bump,
    player_current_missions,
)
from missions.models import ActiveMission
from missions.selectors import player_missions
from missions.services import missions_assign_all, missions_assign_for_user, template_upsert
from missions.services.lifecycle import missions_close_ended
from missions.services.service_keys import service_key_create
from tests.conftest import DEAD_CACHE
from tests.factories import TemplateFactory, UserFactory, requirement
from tests.servers import asgi_servers
from tests.serving.tokens import api_token


@pytest.fixture
def player(db: Any) -> Any:
    return UserFactory(username="cached")


@pytest.fixture
def templates(db: Any) -> None:
    for key, period in (("d1", "daily"), ("d2", "daily"), ("w1", "weekly"), ("p1", "perpetual")):
        TemplateFactory(
            key=key,
            period_type=period,
            requirements={"posts": requirement("post:created", target=2)},
        )


def _read(user_id: int, **filters: Any) -> list[tuple[str, str, str]]:
    rows = player_current_missions(user_id=user_id, now=timezone.now(), **filters)
    return [
        (m.template.key, m.state, str(next(iter(m.progress.all())).current.normalize()))
        for m in rows
    ]


def test_it_lists_what_the_database_query_lists_in_the_same_order(
    player: Any, templates: None
) -> None:
    now = timezone.now()
    missions_assign_for_user(user_id=player.pk, now=now)
    old = ActiveMission.objects.filter(user=player).first()
    assert old is not None
    # An ended mission: not current, so in neither list.
    ActiveMission.objects.create(
        user=player,
        template=old.template,
        period_type=old.period_type,
        period_start=now - timedelta(days=9),
        period_end=now - timedelta(days=8),
        assigned_at=now - timedelta(days=9),
    )
    player_cache_bump(user_ids=[player.pk])
    for filters in ({}, {"period_type": "daily"}, {"states": ["active"]}, {"states": ["failed"]}):
        expected = [
            m.pk
            for m in player_missions(
                user_id=player.pk,
                now=now,
                period_type=filters.get("period_type"),
                states=filters.get("states"),
            )
        ]
        for _ in range(2):  # a miss, then a hit
            got = player_current_missions(user_id=player.pk, now=now, **filters)
            assert [m.pk for m in got] == expected


def test_a_read_after_progress_or_a_claim_is_fresh(player: Any, templates: None) -> None:
    missions_assign_for_user(user_id=player.pk, now=timezone.now())
    assert ("p1", "active", "0") in _read(player.pk)
    assert ("p1", "active", "0") in _read(player.pk)  # now cached (L1)
    missions.track(player, "post:created", {}, event_id="c1")
    assert ("p1", "active", "1") in _read(player.pk)
    missions.track(player, "post:created", {}, event_id="c2")
    assert ("p1", "completed", "2") in _read(player.pk)
    mission = ActiveMission.objects.get(user=player, template__key="p1")
    from rewards.services import mission_claim

    mission_claim(mission_id=mission.pk, user_id=player.pk)
    assert ("p1", "claimed", "2") in _read(player.pk)


def test_a_lost_version_token_never_brings_back_an_old_entry(player: Any, templates: None) -> None:
    missions_assign_for_user(user_id=player.pk, now=timezone.now())
    assert ("p1", "active", "0") in _read(player.pk)
    cache.delete(_token_key(player.pk))  # evicted, or Redis restarted without its data
    missions.track(player, "post:created", {}, event_id="l1")
    cache.delete(_token_key(player.pk))
    assert ("p1", "active", "1") in _read(player.pk)


def test_a_template_change_and_a_bulk_expiry_are_seen(player: Any, templates: None) -> None:
    now = timezone.now()
    missions_assign_for_user(user_id=player.pk, now=now)
    _read(player.pk)
    template_upsert(
        data={
            "key": "p1",
            "name": "Renamed",
            "category": "content",
            "type": "count",
            "period_type": "perpetual",
            "requirements": {"posts": requirement("post:created", target=2)},
        }
    )
    names = [m.template.name for m in player_current_missions(user_id=player.pk, now=now)]
    assert "Renamed" in names
    ActiveMission.objects.filter(user=player, template__key="d1").update(
        period_end=now - timedelta(hours=2)
    )
    player_cache_bump(user_ids=[player.pk])
    _read(player.pk)
    ActiveMission.objects.filter(user=player, template__key="d1").update(
        period_end=now + timedelta(hours=1)
    )
    missions_close_ended(now=now + timedelta(days=2))  # expires everything dated
    states = {k: s for k, s, _ in _read(player.pk)}
    assert "d1" in states and states["d1"] == "expired"


def test_a_rollover_that_assigns_a_new_template_is_seen_by_a_cached_reader(
    player: Any, templates: None
) -> None:
    now = timezone.now()
    missions_assign_for_user(user_id=player.pk, now=now)
    assert "p2" not in {key for key, _, _ in _read(player.pk)}  # read once: now cached
    TemplateFactory(
        key="p2",
        period_type="perpetual",
        requirements={"posts": requirement("post:created", target=2)},
    )
    # The bulk path bumps one version for every player, not this player's own.
    created = missions_assign_all(now=now)
    assert created == 1
    assert ("p2", "active", "0") in _read(player.pk)


def test_it_reads_the_database_when_the_cache_is_down(player: Any, templates: None) -> None:
    missions_assign_for_user(user_id=player.pk, now=timezone.now())
    with override_settings(CACHES=DEAD_CACHE):
        missions.track(player, "post:created", {}, event_id="down")
        assert ("p1", "active", "1") in _read(player.pk)


def test_it_is_bypassed_when_switched_off(player: Any, templates: None) -> None:
    missions_assign_for_user(user_id=player.pk, now=timezone.now())
    PLAYER_MISSIONS.clear_local()
    with override_settings(MISSIONS_CACHE=False):
        _read(player.pk)
    assert not PLAYER_MISSIONS._l1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_claim_in_one_process_is_seen_by_the_next_read_in_another(tmp_path: Path) -> None:
    TemplateFactory(
        key="two_procs",
        period_type="perpetual",
        requirements={"posts": requirement("post:created", target=2)},
    )
    user = UserFactory(username="twoprocs")
    auth = {"Authorization": f"Token {api_token(user)}"}
    service = {"Authorization": f"Bearer {service_key_create(name='forum')[1]}"}
    prom = tmp_path / "prometheus"
    prom.mkdir()

    def status(server: Any) -> tuple[str, dict[str, Any]]:
        code, body = server.request("GET", "/api/v1/missions", headers=auth)
        assert code == 200, body
        mission = next(m for m in body if m["key"] == "two_procs")
        return mission["status"], mission["requirements"]["posts"]

    with asgi_servers(2, tmp_path, {"PROMETHEUS_MULTIPROC_DIR": str(prom)}) as (one, two):
        for _ in range(3):  # two caches it (L2 and its own L1)
            assert status(two) == ("active", {"label": "Do post:created ×2", "current": 0,
                                              "target": 2, "done": False})  # fmt: skip
        events = [
            {"id": f"tp{i}", "user_id": user.pk, "action": "post:created", "data": {}}
            for i in range(2)
        ]
        code, _ = one.request("POST", "/api/v1/events", headers=service, body={"events": events})
        assert code == 200
        assert status(two)[0] == "completed"  # progress on one, fresh on two
        assert status(two)[0] == "completed"
        mission_id = ActiveMission.objects.get(user=user, template__key="two_procs").pk
        code, body = one.request("POST", f"/api/v1/missions/{mission_id}/claim", headers=auth)
        assert code == 200, body
        assert status(two)[0] == "claimed"  # the claim on one, fresh on two
        _, text = two.request("GET", "/metrics")
    assert 'mission_cache_lookups_total{cache="player_missions",result="l1"}' in text
