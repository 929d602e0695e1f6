"""The builder's server-rendered fragments (htmx): type-dependent editors, the live preview,
the backtest. Admin-only: wrapped by admin_site.admin_view in MissionTemplateAdmin.get_urls."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html

from analytics.economy import emission_against_budget

from ..periods import period_for
from ..player.presentation import card_context
from ..selectors import format_number
from ..services.backtest import template_backtest
from ..validation import parse_decimal
from .convert import requirement_keys_in_order
from .forms import MissionTemplateForm
from .schemas import TYPE_HELP


def _json_param(request: HttpRequest, name: str, default: Any) -> Any:
    try:
        value = json.loads(request.GET.get(name) or "null")
    except json.JSONDecodeError:
        return default
    return default if value is None else value


def builder_fields(request: HttpRequest) -> HttpResponse:
    """The requirement and type-settings editors for another mission type, keeping what the
    admin has entered; swapped in out of band, with the type's help."""
    mission_type = request.GET.get("type") or None
    form = MissionTemplateForm()
    requirements = _json_param(request, "requirements", [])
    metadata = _json_param(request, "metadata", {})
    form.initial["requirements"] = requirements
    form.initial["metadata"] = metadata
    form.set_schemas(mission_type, {"metadata": metadata})
    parts: list[str] = [
        format_html(
            '<p id="builder-type-help" class="builder-type-help" hx-swap-oob="true">{}</p>',
            TYPE_HELP.get(mission_type or "", "Pick a mission type."),
        )
    ]
    for name in ("requirements", "metadata"):
        html = str(form[name])
        parts.append(
            html.replace(f'id="builder-{name}"', f'id="builder-{name}" hx-swap-oob="true"', 1)
        )
    return HttpResponse("".join(parts))


PREVIEW_SHARES = (0, 50, 100)


def _requirement_rows(draft: dict[str, Any], share: int) -> dict[str, dict[str, Any]]:
    requirements = draft.get("requirements")
    if not isinstance(requirements, dict):
        return {}
    rows: dict[str, dict[str, Any]] = {}
    for key in requirement_keys_in_order(draft):
        req = requirements[key] if isinstance(requirements[key], dict) else {}
        target = parse_decimal(req.get("target"))
        if target is None or target <= 0:
            target = Decimal(1)
        current = target * share / 100
        if "." not in str(req.get("target", "")):
            current = current.to_integral_value(rounding=ROUND_DOWN)
        rows[key] = {
            "label": req.get("label") or key,
            "current": format_number(current),
            "target": format_number(target),
            "done": current >= target,
        }
    return rows


def preview_card(draft: dict[str, Any], *, share: int, now: datetime) -> dict[str, Any]:
    """The draft as the hub's card context: the same fields a player's mission has."""
    period_type = draft.get("period_type") or "daily"
    starts, ends = draft.get("starts_at"), draft.get("ends_at")
    period_start: datetime
    period_end: datetime | None
    if period_type == "special" and isinstance(starts, datetime) and isinstance(ends, datetime):
        period_start, period_end = starts, ends
    else:
        try:
            period = period_for(period_type, now)
            period_start, period_end = period.start, period.end
        except ValueError:
            period_start, period_end = now, None
    requirements = _requirement_rows(draft, share)
    rewards = draft.get("rewards") or {}
    metadata = draft.get("metadata") or {}
    rewards = rewards if isinstance(rewards, dict) else {}
    metadata = metadata if isinstance(metadata, dict) else {}
    fields = {
        "id": 0,
        "key": draft.get("key") or "draft",
        "name": draft.get("name") or "Untitled mission",
        "description": draft.get("description") or "",
        "category": draft.get("category") or "participation",
        "type": draft.get("type") or "count",
        "period_type": period_type,
        "period_start": period_start,
        "period_end": period_end,
        "requirements": requirements,
        "percentage": share if requirements else 0,
        "rewards": rewards,
        "status": "completed" if share >= 100 and requirements else "active",
        "completed_at": now if share >= 100 else None,
        "claimed_at": None,
    }
    return card_context(fields, icon=str(metadata.get("icon") or ""), now=now)


def builder_preview(request: HttpRequest) -> HttpResponse:
    """The player's card for the unsaved draft, rendered by the hub's own card template, in a
    desktop-wide and a 390 px frame. Never saves anything."""
    form = MissionTemplateForm(data=request.POST)
    valid = form.is_valid()
    try:
        share = int(request.POST.get("preview_share") or 0)
    except ValueError:
        share = 0
    share = share if share in PREVIEW_SHARES else 0
    card = preview_card(form.draft, share=share, now=timezone.now())
    frame = render_to_string("missions/builder/preview_frame.html", {"card": card}, request)
    problems = (
        []
        if valid
        else [
            f"{name}: {message}" if name != "__all__" else str(message)
            for name, messages in form.errors.items()
            for message in messages
        ]
    )
    return render(
        request,
        "missions/builder/preview.html",
        {"frame": frame, "problems": problems, "shares": PREVIEW_SHARES, "share": share},
    )


BACKTEST_DAYS = (1, 7, 14, 28, 60, 90)


def _int_param(value: Any, default: int | None, low: int, high: int) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(low, min(high, number))


def builder_backtest(request: HttpRequest) -> HttpResponse:
    """ "Test mission": the unsaved draft over the recorded events of the last N days, with the
    production fold; writes nothing."""
    form = MissionTemplateForm(data=request.POST)
    days = _int_param(request.POST.get("backtest_days"), 14, 1, 365) or 14
    sample = _int_param(request.POST.get("backtest_sample") or None, None, 1, 10_000_000)
    if not form.is_valid() or form.valid is None:
        return render(
            request,
            "missions/builder/backtest.html",
            {"invalid": True, "days": days},
        )
    now = timezone.now()
    result = template_backtest(template=form.valid, days=days, now=now, sample=sample)
    emission = []
    if sample is None:  # a sample's emission is not the whole player base's
        emission = emission_against_budget(
            xp_per_day=result.xp_per_day, dgt_per_day=result.dgt_per_day, end=now.date()
        )
    peak = max(result.completions_by_day.values(), default=0)
    most = max(result.not_finished.values(), default=0)
    return render(
        request,
        "missions/builder/backtest.html",
        {
            "result": result,
            "emission": emission,
            "budget_warnings": [line.warning for line in emission if line.over],
            "days": days,
            "sample": sample,
            "rate": round(result.completion_rate * 100, 1),
            "by_day": [
                (day, count, int(count * 100 / peak) if peak else 0)
                for day, count in result.completions_by_day.items()
            ],
            "not_finished": [
                (label, count, int(count * 100 / most) if most else 0)
                for label, count in result.not_finished.items()
            ],
        },
    )
