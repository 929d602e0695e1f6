"""The issue's whole flow in a real browser: events posted to /api/v1/events with a service
key move a card live, completion celebrates, claim grants the rewards, the profile shows them."""

from __future__ import annotations

import io
import json
import re
import urllib.request
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from missions.models import ActionType, ActiveMission
from missions.services import missions_assign
from rewards.selectors import player_wallet
from tests.browser.conftest import log_in, off_the_loop, screenshot
from tests.factories import TemplateFactory

# serialized_rollback: the flush after each test restores what migrations put in the database
# (the engine's action catalog), so later tests find it.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _setup() -> tuple[int, int, str]:
    call_command("seed_demo", players=2, verbosity=0)
    # An action of its own, so the demo's missions (quality posts, welcome, ...) do not also
    # complete from these events and race this mission for the toast and the celebration.
    ActionType.objects.create(action="browser:posted", fields={"content_length": "int"})
    TemplateFactory(
        key="browser_flow",
        name="Browser Flow",
        period_type="perpetual",
        category="content",
        requirements={"posts": {"action": "browser:posted", "target": 3, "label": "Write 3 posts"}},
        rewards={"xp": 120, "dgt": "7.5", "badges": ["wordsmith"]},
    )
    player = ActiveMission.objects.filter(user__username="player01").first()
    assert player is not None
    missions_assign(user_ids=[player.user_id], now=timezone.now())
    mission = ActiveMission.objects.get(user_id=player.user_id, template__key="browser_flow")
    out = io.StringIO()
    call_command("create_service_key", "browser-test", stdout=out)
    key = re.search(r"msk_[\w-]+", out.getvalue())
    assert key, out.getvalue()
    return player.user_id, mission.pk, key.group(0)


def _post_event(base_url: str, key: str, user_id: int, n: int) -> dict[str, Any]:
    body = json.dumps(
        {
            "events": [
                {
                    "id": f"browser-flow-{n}",
                    "user_id": user_id,
                    "action": "browser:posted",
                    "data": {"content_length": 150},
                }
            ]
        }
    ).encode()
    request = urllib.request.Request(
        f"{base_url}/api/v1/events",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def test_events_move_the_card_live_then_claim_grants_and_the_profile_shows_it(
    page: Any, live_server_url: str
) -> None:
    user_id, mission_id, key = off_the_loop(_setup)
    log_in(page, "player01", "player-demo-pass")
    card = page.locator(f"#mission-{mission_id}")
    assert card.locator(".cur").inner_text() == "0"
    screenshot(page, "flow-0-start")

    for n, expected in ((1, 33), (2, 66)):
        assert _post_event(live_server_url, key, user_id, n)["accepted"] == 1
        page.wait_for_function(
            "([id, n]) => document.querySelector(`#mission-${id} .cur`).textContent === String(n)",
            arg=[mission_id, n],
        )
        assert card.locator(".ring").get_attribute("aria-valuenow") == str(expected)
        assert card.locator(".ring-label").inner_text() == f"{expected}%"
    # The same event id again counts once.
    assert _post_event(live_server_url, key, user_id, 2)["duplicates"] == 1
    screenshot(page, "flow-1-progress")

    assert _post_event(live_server_url, key, user_id, 3)["accepted"] == 1
    page.locator("#celebrate").wait_for(state="visible")
    assert "Browser Flow" in page.locator("#celebrate-text").inner_text()
    page.locator(".toast-success").filter(has_text="Mission complete!").wait_for()
    assert card.locator(".cur").inner_text() == "3"
    screenshot(page, "flow-2-complete")
    page.locator("#celebrate-close").click()

    card.get_by_role("button", name="Claim rewards!").click()
    claimed = page.locator(".toast-success").filter(has_text="Rewards claimed!")
    claimed.wait_for()
    # Exact decimals, trimmed as text: 7.5 (×any bonus), never "7.50000000".
    assert re.search(r"\+\d+ XP · \+\d+(\.\d*[1-9])? DGT", claimed.inner_text())
    # The claimed card folds into the collapsed "Done" group.
    page.locator(f'#done-grid #mission-{mission_id}[data-status="claimed"]').wait_for(
        state="attached"
    )
    page.locator("#done-group summary").click()
    page.locator(f"#mission-{mission_id} .claimed").wait_for()
    screenshot(page, "flow-3-claimed")

    wallet = player_wallet(user_id=user_id)
    assert wallet["xp"] >= 120 and "wordsmith" in [b["key"] for b in wallet["badges"]]
    page.goto("/profile/")
    assert page.locator("#xp b").inner_text() == str(wallet["xp"])
    assert page.locator('#badges [data-key="wordsmith"]').count() == 1
    screenshot(page, "flow-4-profile")
    page.goto("/history/")
    assert page.locator(f'.entry[data-mission-id="{mission_id}"]').count() == 1
