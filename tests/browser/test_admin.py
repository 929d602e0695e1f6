"""The admin in headless Chromium: build a mission without typing JSON, watch the preview,
backtest it, publish and assign it now, and find it on a player's hub; the analytics
dashboard draws non-empty charts from the demo's history. Screenshots in artifacts/browser/."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from missions.models import ActiveMission, MissionTemplate
from tests.browser.conftest import log_in, off_the_loop, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ADMIN = ("admin", "admin-demo-pass")
PLAYER = ("player01", "player-demo-pass")


@pytest.fixture
def demo() -> None:
    off_the_loop(lambda: call_command("seed_demo", players=2, history_days=7, verbosity=0))


def admin_log_in(page: Any) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", ADMIN[0])
    page.fill("#id_password", ADMIN[1])
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")


FRAME_HAS = """([frame, texts]) => {
  const f = document.querySelector('iframe.' + frame);
  const body = f && f.contentDocument && f.contentDocument.body;
  return !!body && texts.every(t => body.innerText.includes(t));
}"""


def wait_for_preview(page: Any, frame: str, *texts: str) -> None:
    """The preview iframes are replaced as the admin types: wait until one shows `texts`."""
    page.wait_for_function(FRAME_HAS, arg=[frame, list(texts)])


def preview_text(page: Any, frame: str = "desktop") -> str:
    return str(page.frame_locator(f"iframe.{frame}").locator("article.card").inner_text())


def test_an_admin_builds_previews_backtests_publishes_and_a_player_sees_it(
    page: Any, browser: Any, live_server_url: str, demo: None
) -> None:
    admin_log_in(page)
    page.goto("/admin/missions/missiontemplate/add/")
    page.fill("#id_key", "browser_built")
    page.fill("#id_name", "Thread Starter")
    page.fill("#id_description", "Start a thread today")
    page.select_option("#id_category", "content")
    page.select_option("#id_type", "timebound")
    page.get_by_text("Time limit (minutes)").wait_for()
    page.select_option("#id_type", "count")
    page.locator("#builder-type-help", has_text="Counts matching events").wait_for()
    requirements = page.locator("#builder-requirements")
    requirements.locator("input").nth(0).fill("threads")
    requirements.locator("select").nth(0).select_option("thread:created")
    requirements.locator("input").nth(1).fill("Start 1 thread")
    requirements.locator("input").nth(2).fill("1")
    rewards = page.locator("#builder-rewards")
    rewards.locator("input").nth(0).fill("40")
    rewards.locator("input").nth(1).fill("2.5")
    page.locator("#builder-metadata select").nth(1).select_option("star")

    wait_for_preview(page, "desktop", "Thread Starter", "Start 1 thread", "+2.5 DGT")
    first = preview_text(page)
    assert "Start 1 thread" in first and "+2.5 DGT" in first and "+40 XP" in first
    page.fill("#id_name", "Thread Starter Deluxe")
    wait_for_preview(page, "phone", "Thread Starter Deluxe")
    page.select_option("#preview-share", "100")
    wait_for_preview(page, "desktop", "Claim rewards!")
    assert "Claim rewards!" in preview_text(page, "phone")
    page.locator("#builder-preview-panel").screenshot(path=str(screenshot(page, "admin-builder")))

    page.locator("#run-backtest").click()
    page.locator('#backtest-output [data-metric="completion-rate"]').wait_for()
    assert "NOTHING WAS WRITTEN" in page.locator("#backtest-output").inner_text().upper()
    page.locator("#builder-backtest-panel").screenshot(path=str(screenshot(page, "admin-backtest")))
    assert not off_the_loop(lambda: MissionTemplate.objects.filter(key="browser_built").exists())

    page.get_by_role("button", name="Save and continue editing").click()
    page.locator(".messagelist .success").wait_for()
    template = off_the_loop(lambda: MissionTemplate.objects.get(key="browser_built"))
    assert template.requirements == {
        "threads": {"action": "thread:created", "target": 1, "label": "Start 1 thread"}
    }
    assert template.rewards == {"xp": 40, "dgt": "2.5"}
    assert template.metadata == {"icon": "star"}

    page.goto("/admin/missions/missiontemplate/")
    page.locator("tr", has_text="browser_built").locator("input.action-select").check()
    page.select_option("select[name=action]", "assign_now")
    page.locator("button[name=index]").click()
    message = page.locator(".messagelist .success").inner_text()
    assert "assigned to" in message
    screenshot(page, "admin-templates")
    count = off_the_loop(
        lambda: ActiveMission.objects.filter(template__key="browser_built").count()
    )
    assert f"assigned to {count} more player(s)" in message and count >= 2

    player = browser.new_context(base_url=live_server_url, viewport={"width": 390, "height": 844})
    try:
        hub = player.new_page()
        log_in(hub, *PLAYER)
        card = hub.locator(".card", has_text="Thread Starter Deluxe")
        card.wait_for()
        assert "Start 1 thread" in card.inner_text()
        screenshot(hub, "hub-assigned-now-phone")
    finally:
        player.close()


CHART_SUM = (
    "id => { const c = Chart.getChart(document.getElementById(id));"
    " return c ? c.data.datasets.map(d => d.data.reduce((a, b) => a + b, 0)) : null; }"
)


def test_the_analytics_dashboard_draws_non_empty_charts_from_the_demo_history(
    page: Any, demo: None
) -> None:
    admin_log_in(page)  # the admin index opens on the dashboard
    page.locator('[data-kpi="completion_rate"]').wait_for()
    charts = ("chart-daily", "chart-emission-xp", "chart-emission-dgt")
    for chart in (*charts, "chart-category", "chart-difficulty"):
        page.wait_for_function(f"() => window.Chart && Chart.getChart('{chart}')")
        sums = page.evaluate(f"({CHART_SUM})('{chart}')")
        assert sums and sum(sums) > 0, (chart, sums)
    completed = page.evaluate(f"({CHART_SUM})('chart-daily')")[0]
    assert completed > 0
    screenshot(page, "admin-index-dashboard")
    page.goto("/admin/analytics/")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-daily')")
    assert page.locator("#best-templates tbody tr").count() >= 1
    # the emission charts: XP paid per day and its projection both drawn from the history
    for chart in ("chart-emission-xp", "chart-emission-dgt"):
        page.wait_for_function(f"() => window.Chart && Chart.getChart('{chart}')")
        paid, projected = page.evaluate(f"({CHART_SUM})('{chart}')")[:2]
        assert paid > 0 and projected > 0, (chart, paid, projected)
    screenshot(page, "admin-analytics")


VARIANT_CHART = """() => {
  const c = Chart.getChart('chart-variants');
  return c && {labels: c.data.labels, intervals: c.data.datasets[0].data,
               rates: c.data.datasets[1].data};
}"""


def _experiment_on_the_demo_history() -> int:
    """An experiment whose variants are the two demo templates completed most often in the
    history, started before it: its results come from the recorded missions."""
    from datetime import timedelta

    from django.db.models import Count, Q
    from django.utils import timezone

    from analytics.models import Experiment, Variant

    top = list(
        ActiveMission.objects.values("template_id")
        .annotate(done=Count("id", filter=Q(completed_at__isnull=False)))
        .filter(done__gt=0)
        .order_by("-done", "template_id")
        .values_list("template_id", flat=True)[:2]
    )
    assert len(top) == 2, "the demo history completes at least two templates"
    experiment = Experiment.objects.create(
        key="demo-ab", name="Demo A/B", started_at=timezone.now() - timedelta(days=30)
    )
    for template_id in top:
        Variant.objects.create(experiment=experiment, template_id=template_id, weight=1)
    return experiment.pk


def test_the_experiment_page_charts_each_variants_rate_and_interval(page: Any, demo: None) -> None:
    experiment_id = off_the_loop(_experiment_on_the_demo_history)
    admin_log_in(page)
    page.goto(f"/admin/analytics/experiment/{experiment_id}/change/")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-variants')")
    chart = page.evaluate(f"({VARIANT_CHART})()")
    assert len(chart["labels"]) == 2
    assert sum(chart["rates"]) > 0
    for rate, (low, high) in zip(chart["rates"], chart["intervals"], strict=True):
        assert low <= rate <= high and high > 0
    assert page.locator("table.experiment-results tr[data-variant]").count() == 2
    screenshot(page, "admin-experiment")
