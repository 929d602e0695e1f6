"""The player's hub in Chromium at desktop and phone (390 px) width: header figures equal the
API's, claim all, the leaderboard page, the filter kept across a reload, keyboard use, no
console errors, and an axe-core scan (vendored, no CDN) of hub, history, profile and
leaderboard with no serious violations. Screenshots land in artifacts/browser/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from missions.models import ActionType, ActiveMission, MissionProgress
from missions.services import missions_assign, track
from tests.browser.conftest import log_in, off_the_loop, screenshot
from tests.factories import TemplateFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PLAYER = ("player01", "player-demo-pass")
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _seed() -> dict[str, Any]:
    call_command("seed_demo", players=2, verbosity=0)
    now = timezone.now()
    # An action of its own, so demo missions cannot move alongside.
    ActionType.objects.create(action="browser:raced", fields={})
    TemplateFactory(
        key="browser_race",
        name="Browser Race",
        type="competitive",
        period_type="special",
        category="special_event",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=3),
        requirements={"posts": {"action": "browser:raced", "target": 1, "label": "Race posts"}},
        rewards={},
        metadata={"icon": "trophy", "reward_tiers": [{"rank_to": 1, "rewards": {"xp": 50}}]},
    )
    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="player")}
    missions_assign(user_ids=[u.pk for u in users.values()], now=now)
    for i in range(3):
        track(users["player02"], "browser:raced", {}, event_id=f"race-2-{i}")
    track(users["player01"], "browser:raced", {}, event_id="race-1-0")
    return {"user_id": users["player01"].pk}


def _complete_two(user_id: int) -> list[int]:
    """Two of the player's active daily missions, completed (as their events would)."""
    missions = list(
        ActiveMission.objects.filter(user_id=user_id, state="active", period_type="daily")
        .exclude(template__type__in=["competitive", "timebound"])
        .order_by("pk")[:2]
    )
    for mission in missions:
        for progress in MissionProgress.objects.filter(mission=mission):
            MissionProgress.objects.filter(pk=progress.pk).update(current=progress.target)
        ActiveMission.objects.filter(pk=mission.pk).update(
            state="completed", completed_at=timezone.now()
        )
    return [m.pk for m in missions]


@pytest.fixture
def demo() -> dict[str, Any]:
    return off_the_loop(_seed)


@pytest.fixture(params=list(VIEWPORTS))
def player_page(request: Any, browser: Any, live_server_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server_url, viewport=VIEWPORTS[request.param])
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.width_name = request.param
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    yield page
    context.close()
    # No console errors on any page (a favicon 404 was one).
    assert problems == []


def _api(page: Any, path: str) -> Any:
    response = page.request.get(path)
    assert response.ok, (path, response.status)
    return response.json()


def _axe_serious(page: Any) -> list[str]:
    # Evaluated through the DevTools protocol, not as an inline <script> the page's CSP
    # (script-src 'self') would rightly block.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def test_the_header_shows_the_apis_figures(player_page: Any, demo: dict[str, Any]) -> None:
    page = player_page
    log_in(page, *PLAYER)
    me = _api(page, "/api/v1/me")
    streaks = _api(page, "/api/v1/streaks")
    header = page.locator("#player-header")
    assert header.get_attribute("data-level") == str(me["level"])
    assert page.locator("#ph-level").inner_text() == f"Lv {me['level']}"
    assert page.locator("#ph-xp").inner_text() == str(me["xp"])
    assert Decimal(page.locator("#ph-dgt").inner_text()) == Decimal(me["dgt"])
    assert page.locator("#ph-streak").inner_text().startswith(f"{streaks['daily']['current']} day")
    progress = me["level_progress"]
    bar = header.locator(".xpbar")
    assert bar.get_attribute("aria-valuenow") == str(progress["percent"])
    assert page.locator("#ph-xp-label").inner_text() == (
        f"{progress['into']} / {progress['span']} XP to level {me['level'] + 1}"
    )
    assert page.locator("#ph-reset").inner_text().startswith("in ")
    screenshot(page, f"hub-header-{page.width_name}")


def test_claim_all_claims_every_completed_mission_in_one_tap(
    player_page: Any, demo: dict[str, Any]
) -> None:
    page = player_page
    ids = off_the_loop(_complete_two, demo["user_id"])
    log_in(page, *PLAYER)
    # Claimable cards come first.
    first = page.locator("#mission-grid .card").first
    assert first.get_attribute("data-status") == "completed"
    before = _api(page, "/api/v1/me")["xp"]
    claimable = [
        int(m["id"]) for m in _api(page, "/api/v1/missions?status=completed")
    ]  # the demo's history completed some too
    assert set(ids) <= set(claimable)
    button = page.locator("#claim-all")
    assert f"({len(claimable)})" in button.inner_text()
    button.click()
    toast = page.locator(".toast-success").filter(has_text=f"Claimed {len(claimable)} missions")
    toast.wait_for()
    for mission_id in claimable:
        page.locator(f'#done-grid #mission-{mission_id}[data-status="claimed"]').wait_for(
            state="attached"
        )
    me = _api(page, "/api/v1/me")
    assert me["xp"] > before
    page.wait_for_function(
        "xp => document.getElementById('ph-xp').textContent === String(xp)", arg=me["xp"]
    )
    assert button.is_hidden()
    assert _api(page, "/api/v1/missions?status=completed") == []
    screenshot(page, f"claim-all-{page.width_name}")


def test_the_card_links_its_leaderboard_page(player_page: Any, demo: dict[str, Any]) -> None:
    page = player_page
    log_in(page, *PLAYER)
    card = page.locator(".card", has_text="Browser Race")
    assert "Your rank #2" in card.locator("[data-standing]").inner_text()
    card.get_by_role("link", name="Leaderboard").click()
    page.wait_for_url("**/leaderboards/browser_race/")
    board = _api(page, "/api/v1/leaderboards/browser_race")
    assert page.locator("#my-rank .rank").inner_text() == f"#{board['me']['rank']}"
    tops = page.locator("#board-top li")
    assert tops.count() == len(board["entries"]) == 2
    assert page.locator("#board-top li.me").get_attribute("data-rank") == "2"
    assert "No final results yet" in page.locator("#past-results").inner_text()
    screenshot(page, f"leaderboard-{page.width_name}")


def test_the_filter_is_kept_across_a_reload_and_works_by_keyboard(
    player_page: Any, demo: dict[str, Any]
) -> None:
    page = player_page
    log_in(page, *PLAYER)
    weekly = page.locator('.filter[data-filter="weekly"]')
    # Keyboard: Tab to the toolbar's one stop, then arrows to Weekly.
    page.locator('.filter[data-filter="all"]').focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.filter") == "weekly"
    assert weekly.get_attribute("aria-pressed") == "true"
    assert page.url.endswith("?period=weekly")
    page.reload()
    page.locator('#live-status[data-state="live"]').wait_for()
    assert page.locator('.filter[data-filter="weekly"]').get_attribute("aria-pressed") == "true"
    visible = page.locator(".card:visible")
    assert visible.count() == page.locator('.card[data-period="weekly"]').count()
    assert all(
        visible.nth(i).get_attribute("data-period") == "weekly" for i in range(visible.count())
    )
    screenshot(page, f"hub-filter-weekly-{page.width_name}")


def test_claim_by_keyboard_moves_focus_on(player_page: Any, demo: dict[str, Any]) -> None:
    page = player_page
    off_the_loop(_complete_two, demo["user_id"])
    log_in(page, *PLAYER)
    claim = page.locator("#mission-grid [data-claim]").first
    claim.focus()
    page.keyboard.press("Enter")
    page.locator(".toast-success").filter(has_text="Rewards claimed!").wait_for()
    # Focus moves to the next claim button, not to the page's top.
    page.wait_for_function("() => document.activeElement.matches('[data-claim]')")


@pytest.mark.parametrize("path", ["/", "/history/", "/profile/", "/leaderboards/browser_race/"])
def test_axe_finds_no_serious_violations(player_page: Any, demo: dict[str, Any], path: str) -> None:
    page = player_page
    off_the_loop(_complete_two, demo["user_id"])
    log_in(page, *PLAYER)
    if path == "/history/":
        page.locator("#claim-all").click()
        page.locator(".toast-success").filter(has_text="Claimed").wait_for()
    page.goto(path)
    assert _axe_serious(page) == []
    name = path.strip("/").replace("/", "-") or "hub"
    screenshot(page, f"axe-{name}-{page.width_name}")


def test_the_axe_scan_catches_a_planted_violation(player_page: Any, demo: dict[str, Any]) -> None:
    """The scan is live: grey on grey text and a nameless button are reported."""
    page = player_page
    log_in(page, *PLAYER)
    page.evaluate(
        """() => {
          const p = document.createElement('p');
          p.textContent = 'hard to read';
          p.style.cssText = 'color:#555;background:#4a4a4a';
          document.querySelector('main').appendChild(p);
          document.querySelector('main').appendChild(document.createElement('button'));
        }"""
    )
    found = " ".join(_axe_serious(page))
    assert "color-contrast" in found and "button-name" in found
