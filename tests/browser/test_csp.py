"""Under the Content-Security-Policy, the hub, the admin and Swagger UI still work and the
browser reports no violation (issue 8, defect 8)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from tests.browser.conftest import log_in, off_the_loop

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push([e.violatedDirective, e.blockedURI || "inline",
                    (e.sourceFile || "") + ":" + e.lineNumber, e.sample || ""].join(" "));
});
"""


@pytest.fixture
def demo() -> None:
    off_the_loop(lambda: call_command("seed_demo", players=2, verbosity=0))


def _violations(page: Any) -> list[str]:
    return list(page.evaluate("window.__csp || []"))


def test_hub_admin_and_swagger_work_under_the_policy(page: Any, demo: None) -> None:
    page.add_init_script(WATCH)
    seen: list[str] = []
    page.on(
        "console",
        lambda msg: (
            "Content Security Policy" in msg.text
            and seen.append(f"{page.url}: {msg.text} {msg.location}")
        ),
    )

    log_in(page, "player01", "player-demo-pass")  # the hub's socket went live
    assert _violations(page) == []
    page.goto("/profile/")
    page.locator(".xpbar svg rect").wait_for(state="attached")
    assert _violations(page) == []

    page.context.clear_cookies()
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("admin-demo-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    page.goto("/admin/missions/missiontemplate/")
    page.locator("#result_list").wait_for()
    assert _violations(page) == []
    page.goto("/admin/missions/missiontemplate/add/")
    page.locator("#missiontemplate_form").wait_for()
    assert _violations(page) == []

    page.goto("/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    page.get_by_text("/api/v1/missions", exact=True).first.wait_for()
    assert _violations(page) == []
    assert seen == []
