"""The hub in headless Chromium against a live uvicorn: log in, filters, live progress,
completion, reconnect, phone width. Screenshots land in artifacts/browser/."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from missions.cache import player_cache_bump
from missions.models import ActiveMission, MissionProgress
from missions.player.live import send_on_commit
from missions.selectors import player_missions
from missions.services import missions_assign
from tests.browser.conftest import log_in, off_the_loop, screenshot
from tests.factories import TemplateFactory

# serialized_rollback: the flush after each test restores what migrations put in the database
# (the engine's action catalog), so later tests find it.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PLAYER = ("player01", "player-demo-pass")


def _seed() -> None:
    call_command("seed_demo", players=2, verbosity=0)
    # The demo's history already moved its missions; this one starts at zero.
    TemplateFactory(
        key="browser_live",
        name="Browser Live",
        period_type="perpetual",
        category="social",
        requirements={"posts": {"action": "post:created", "target": 3, "label": "Write 3 posts"}},
    )
    user_id = ActiveMission.objects.filter(user__username="player01").values("user_id")[:1]
    missions_assign(user_ids=[user_id[0]["user_id"]], now=timezone.now())


@pytest.fixture
def demo() -> None:
    off_the_loop(_seed)


def _missions(username: str) -> list[ActiveMission]:
    return list(
        ActiveMission.objects.filter(user__username=username, state="active")
        .select_related("template")
        .order_by("pk")
    )


def _first_count_mission(username: str) -> tuple[ActiveMission, MissionProgress]:
    mission = ActiveMission.objects.select_related("template").get(
        user__username=username, template__key="browser_live"
    )
    return mission, mission.progress.get()


def test_a_demo_player_logs_in_and_sees_cards_filters_and_counts(page: Any, demo: None) -> None:
    log_in(page, *PLAYER)
    cards = page.locator(".card")
    total = cards.count()
    user_id = _missions("player01")[0].user_id
    assert total == player_missions(user_id=user_id, now=timezone.now()).count() > 0
    assert page.locator('[data-count="all"]').inner_text() == str(total)
    weekly = page.locator('.card[data-period="weekly"]').count()
    page.locator('.filter[data-filter="weekly"]').click()
    assert page.locator(".card:visible").count() == weekly
    assert page.locator('.filter[data-filter="weekly"]').get_attribute("aria-pressed") == "true"
    page.locator('.filter[data-filter="all"]').click()
    assert page.locator(".card:visible").count() == total
    screenshot(page, "hub-desktop")


def test_progress_moves_the_card_and_ring_live_and_completion_celebrates(
    page: Any, demo: None
) -> None:
    log_in(page, *PLAYER)
    mission, row = _first_count_mission("player01")
    card = page.locator(f"#mission-{mission.pk}")
    assert card.locator(".cur").inner_text() == "0"
    target = int(row.target)

    @transaction.atomic
    def advance() -> None:
        MissionProgress.objects.filter(pk=row.pk).update(current=1)
        send_on_commit(
            mission.user_id,
            {
                "type": "mission:progress",
                "missionId": mission.pk,
                "requirement": row.requirement_key,
                "current": 1,
                "target": target,
                "percentage": 100 // target,
            },
        )

    off_the_loop(advance)
    page.wait_for_function(
        "id => document.querySelector(`#mission-${id} .cur`).textContent === '1'", arg=mission.pk
    )
    ring = card.locator(".ring")
    assert ring.get_attribute("aria-valuenow") == str(100 // target)
    assert float(card.locator(".ring-fill").get_attribute("stroke-dashoffset") or 0) < 163.363
    page.locator("#announcer").filter(has_text=f"1 of {target}").wait_for()
    page.locator(".toast-progress").first.wait_for()

    @transaction.atomic
    def complete() -> None:
        MissionProgress.objects.filter(pk=row.pk).update(current=target, done_at=timezone.now())
        ActiveMission.objects.filter(pk=mission.pk).update(
            state="completed", completed_at=timezone.now()
        )
        send_on_commit(
            mission.user_id,
            {
                "type": "mission:complete",
                "missionId": mission.pk,
                "name": mission.template.name,
                "rewards": mission.template.rewards,
                "animation": "confetti",
            },
        )

    off_the_loop(complete)
    page.locator("#celebrate").wait_for(state="visible")
    assert mission.template.name in page.locator("#celebrate-text").inner_text()
    page.locator(".toast-success").filter(has_text="Mission complete!").wait_for()
    card.get_by_role("button", name="Claim rewards!").wait_for()
    assert card.locator(".ring").get_attribute("aria-valuenow") == "100"
    screenshot(page, "hub-completed")


def test_another_players_messages_never_reach_this_hub(
    page: Any, browser: Any, live_server_url: str, demo: None
) -> None:
    # Both players have a socket open, so presence lets the message through and only the
    # routing by user decides: it reaches player02's hub and not player01's.
    log_in(page, *PLAYER)
    context = browser.new_context(base_url=live_server_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    try:
        other = context.new_page()
        log_in(other, "player02", PLAYER[1])
        theirs = _missions("player02")[0]
        off_the_loop(
            send_on_commit,
            theirs.user_id,
            {
                "type": "mission:complete",
                "missionId": theirs.pk,
                "name": theirs.template.name,
                "rewards": {},
                "animation": "confetti",
            },
        )
        other.locator("#celebrate").wait_for(state="visible")
        assert theirs.template.name in other.locator("#celebrate-text").inner_text()

        # A new mission assigned afterwards reaches both hubs through the real
        # missions_assigned receiver: player01's socket was delivering all along.
        def assign_new() -> None:
            TemplateFactory(key="live_arrival", name="Live Arrival", period_type="perpetual")
            users = [m.user_id for m in (_missions("player01")[0], theirs)]
            missions_assign(user_ids=users, now=timezone.now())

        off_the_loop(assign_new)
        for hub in (page, other):
            hub.locator(".toast-new").filter(has_text="Live Arrival").wait_for()
        page.locator(".card", has_text="Live Arrival").wait_for()
        count = page.locator('[data-count="all"]').inner_text()
        assert count == str(page.locator(".card").count())
        assert page.locator("#celebrate").is_hidden()
        assert page.locator(".toast-success").count() == 0
        assert page.locator(f"#mission-{theirs.pk}").count() == 0
    finally:
        context.close()


def test_it_reconnects_and_resyncs_after_the_socket_drops(page: Any, demo: None) -> None:
    log_in(page, *PLAYER)
    mission, row = _first_count_mission("player01")
    page.evaluate("missionHub.socket().close()")
    page.locator('#live-status[data-state="offline"]').wait_for()
    # Progress made while the hub was away arrives through the resync, not the socket.
    MissionProgress.objects.filter(pk=row.pk).update(current=1)
    player_cache_bump(user_ids=[row.user_id])  # as every write to a player's missions does
    page.locator('#live-status[data-state="live"]').wait_for(timeout=15_000)
    page.wait_for_function(
        "id => document.querySelector(`#mission-${id} .cur`).textContent === '1'", arg=mission.pk
    )


def test_the_hub_fits_a_phone(page: Any, demo: None) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, *PLAYER)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    box = page.locator(".card").first.bounding_box()
    assert box is not None and box["width"] <= 375
    screenshot(page, "hub-phone")
