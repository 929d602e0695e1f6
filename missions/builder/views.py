"""The builder's server-rendered fragments (htmx): type-dependent editors, the live preview,
the backtest. Admin-only: wrapped by admin_site.admin_view in MissionTemplateAdmin.get_urls."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

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
