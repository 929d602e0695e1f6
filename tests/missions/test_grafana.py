"""deploy/grafana/mission-system.json: every expression names metrics /metrics exports, and
every metric of missions/metrics.py has a panel."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from missions.metrics_export import metrics_text

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "mission-system.json"
PROMQL_WORDS = {
    "sum", "rate", "increase", "irate", "avg", "max", "min", "count", "histogram_quantile",
    "by", "without", "time", "and", "or", "unless", "on", "ignoring", "offset", "bool",
}  # fmt: skip
OURS = ("mission_", "missions_", "active_missions")


def expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers left after removing strings, label
    matchers, `by (...)` groupings, ranges, dashboard variables and PromQL's own words."""
    text = re.sub(r'"[^"]*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\b(by|without)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\$\w+", "", text)
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", text))
    return words - PROMQL_WORDS


def exported() -> set[str]:
    names: set[str] = set()
    for family in text_string_to_metric_families(metrics_text().decode()):
        names.add(family.name)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names |= {family.name + s for s in ("_bucket", "_count", "_sum")}
        names |= {sample.name for sample in family.samples}
    return names


def test_the_name_parser_finds_metrics_and_only_metrics() -> None:
    assert metric_names(
        'histogram_quantile(0.95, sum by (le) (rate(a_bucket{x="y"}[5m]))) * $price + b'
    ) == {"a_bucket", "b"}


@pytest.mark.django_db
def test_every_expression_names_an_exported_metric() -> None:
    available = exported()
    for expr in expressions():
        names = metric_names(expr)
        assert names, f"no metric in {expr!r}"
        assert names <= available, f"{expr!r} names {names - available}, not exported"


@pytest.mark.django_db
def test_every_metric_of_ours_has_a_panel() -> None:
    families = {
        f.name
        for f in text_string_to_metric_families(metrics_text().decode())
        if f.name.startswith(OURS)
    }
    used = " ".join(expressions())
    missing = {name for name in families if not re.search(rf"\b{name}(_total|_bucket)?\b", used)}
    assert not missing


def test_it_has_the_sketchs_three_panels_and_a_price_variable() -> None:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    titles = [p["title"] for p in dashboard["panels"]]
    assert titles[:3] == ["Mission Completions", "Progress Update Latency", "Economic Impact"]
    economic = dashboard["panels"][2]["targets"][0]["expr"]
    assert "$dgt_price_usd" in economic and 'reward_type="dgt"' in economic
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["dgt_price_usd"]["query"] == "0.1"
