"""The analytics dashboard in the admin (/admin/analytics/, also the admin index's top)."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date

from . import selectors
from .economy import actual_per_day, daily_budget
from .services import analytics_refresh

DEFAULT_DAYS = 28
MAX_DAYS = 366


def _date(text: str | None) -> date | None:
    try:
        return parse_date(text or "")
    except ValueError:  # well formed but impossible, e.g. month 13
        return None


def date_range(request: HttpRequest) -> tuple[date, date, list[str]]:
    """start/end from the query string (YYYY-MM-DD), default the last 28 days; problems are
    reported, not raised."""
    today = timezone.now().date()
    problems = []
    end = _date(request.GET.get("end")) if request.GET.get("end") else today
    if end is None:
        problems.append("end: must be a date YYYY-MM-DD")
        end = today
    default_start = end - timedelta(days=DEFAULT_DAYS - 1)
    start = _date(request.GET.get("start")) if request.GET.get("start") else default_start
    if start is None:
        problems.append("start: must be a date YYYY-MM-DD")
        start = default_start
    if start > end:
        problems.append("start: must not be after end")
        start = default_start
    if (end - start).days + 1 > MAX_DAYS:
        problems.append(f"start: a range covers at most {MAX_DAYS} days")
        start = end - timedelta(days=MAX_DAYS - 1)
    return start, end, problems


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    start, end, problems = date_range(request)
    days = (end - start).days + 1
    ranking = selectors.template_ranking(start=start, end=end)
    actual = actual_per_day(end=end, days=days)
    return {
        "start": start,
        "end": end,
        "days": days,
        "previous_start": start - timedelta(days=days),
        "previous_end": start - timedelta(days=1),
        "range_problems": problems,
        "kpis": selectors.dashboard_kpis(start=start, end=end),
        "series": selectors.daily_series(start=start, end=end),
        "by_category": selectors.completion_by(field="category", start=start, end=end),
        "by_difficulty": selectors.completion_by(field="difficulty", start=start, end=end),
        "best": ranking[:5],
        "worst": list(reversed(ranking[-5:])) if len(ranking) > 5 else [],
        "query": request.GET.urlencode(),
        "budget": daily_budget(),
        "actual_xp_per_day": actual[0],
        "actual_dgt_per_day": actual[1],
        "emission": selectors.emission_series(start=start, end=end, today=timezone.now().date()),
    }


def _charts(context: dict[str, Any]) -> dict[str, Any]:
    budget = context["budget"]
    return {
        "daily": context["series"],
        "emission": {
            **context["emission"],
            "xp_budget": None if budget.xp is None else float(budget.xp),
            "dgt_budget": None if budget.dgt is None else float(budget.dgt),
        },
        "category": {
            "labels": [r["label"] for r in context["by_category"]],
            "rates": [float(r["rate"]) for r in context["by_category"]],
        },
        "difficulty": {
            "labels": [r["label"] for r in context["by_difficulty"]],
            "rates": [float(r["rate"]) for r in context["by_difficulty"]],
        },
    }


def dashboard(request: HttpRequest, site: Any) -> HttpResponse:
    context = dashboard_context(request)
    return TemplateResponse(
        request,
        "admin/analytics/dashboard.html",
        {
            **site.each_context(request),
            **context,
            "charts": _charts(context),
            "title": "Mission analytics",
        },
    )


def export_csv(request: HttpRequest) -> HttpResponse:
    start, end, _ = date_range(request)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="missions-{start}-{end}.csv"'
    writer = csv.writer(response)
    writer.writerows(selectors.export_rows(start=start, end=end))
    return response


def refresh(request: HttpRequest) -> HttpResponse:
    """POST rebuilds the range's rollups; any other method only goes back to the dashboard."""
    if request.method != "POST":
        return HttpResponseRedirect(reverse("admin:analytics_dashboard"))
    start, end, _ = date_range(request)
    written = analytics_refresh(start=start, end=end)
    messages.success(request, f"Rollups rebuilt for {start} – {end} ({written} rows).")
    query = request.GET.urlencode()
    return HttpResponseRedirect(
        reverse("admin:analytics_dashboard") + (f"?{query}" if query else "")
    )


def index_context(request: HttpRequest) -> dict[str, Any]:
    context = dashboard_context(request)
    return {**context, "charts": _charts(context)}
