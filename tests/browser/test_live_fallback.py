"""The hub when Redis dies, in headless Chromium against its own uvicorn and its own
redis-server: the socket is closed with 4503, the hub says so and polls GET /api/v1/missions
(progress still arrives), and once Redis is back the socket opens again and polling stops."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import log_in, off_the_loop, screenshot
from tests.factories import TemplateFactory, UserFactory, requirement
from tests.faults.procs import AsgiServer, RedisServer, http
from tests.servers import database_url as this_test_database_url

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def own_servers(transactional_db: None) -> Iterator[tuple[RedisServer, AsgiServer]]:
    redis = RedisServer()
    redis.start()
    server = AsgiServer(
        "hub-fallback",
        {
            "DATABASE_URL": this_test_database_url(),
            "REDIS_URL": redis.url,
            "MISSIONS_HUB_POLL_SECONDS": "1",
            "REDIS_BREAKER_RESET_SECONDS": "1",
        },
    )
    try:
        server.start()
        yield redis, server
    finally:
        server.stop()
        redis.stop()


def _setup() -> tuple[int, str]:
    from missions.services.service_keys import service_key_create

    TemplateFactory(
        key="fallback_posts",
        name="Fallback Posts",
        period_type="perpetual",
        requirements={"posts": requirement(target=5)},
    )
    UserFactory(username="poller", password="poller-pass-1234")
    _, key = service_key_create(name="fallback")
    return 0, key


def test_the_hub_polls_the_api_while_redis_is_down_and_goes_live_again(
    browser: Any, own_servers: tuple[RedisServer, AsgiServer]
) -> None:
    from django.contrib.auth import get_user_model

    redis, server = own_servers
    _, key = off_the_loop(_setup)
    user_id = off_the_loop(lambda: get_user_model().objects.get(username="poller").pk)
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def post(n: int) -> None:
        status, body, _ = http(
            "POST",
            f"{server.url}/api/v1/events",
            {"events": [{"id": f"fallback-{n}", "user_id": user_id, "action": "post:created"}]},
            {"Authorization": f"Bearer {key}"},
        )
        assert status == 200 and body["accepted"] == 1, body

    def current() -> str:
        return str(page.locator(".card", has_text="Fallback Posts").locator(".cur").inner_text())

    try:
        log_in(page, "poller", "poller-pass-1234")
        assert current() == "0"

        redis.kill()
        page.locator('#live-status[data-state="paused"]').wait_for()
        assert page.locator(".hub").get_attribute("data-last-close") == "4503"
        post(1)  # no socket: the poll brings it
        page.wait_for_function(
            "() => [...document.querySelectorAll('.card')].some(c => c.textContent"
            ".includes('Fallback Posts') && c.querySelector('.cur').textContent === '1')"
        )
        assert int(page.locator(".hub").get_attribute("data-polls") or 0) >= 1
        screenshot(page, "hub-polling")

        redis.start()  # back on the same port; the hub's next attempt opens the socket
        page.locator('#live-status[data-state="live"]').wait_for(timeout=45_000)
        polls = page.locator(".hub").get_attribute("data-polls")
        post(2)  # through the socket now
        page.locator(".toast-progress").filter(has_text="2 / 5").wait_for()
        assert current() == "2"
        page.wait_for_timeout(2500)  # more than two poll intervals
        assert page.locator(".hub").get_attribute("data-polls") == polls  # polling stopped
    finally:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"
