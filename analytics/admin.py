"""The dashboard's admin pages, added to the default admin site, and an admin index that opens
on the dashboard (its KPI cards and charts above the app list)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import path

from . import views

_site_get_urls = admin.site.get_urls
_site_index = admin.site.index


def _get_urls() -> list[Any]:
    wrap = admin.site.admin_view
    return [
        path(
            "analytics/",
            wrap(lambda request: views.dashboard(request, admin.site)),
            name="analytics_dashboard",
        ),
        path("analytics/export.csv", wrap(views.export_csv), name="analytics_export"),
        path("analytics/refresh/", wrap(views.refresh), name="analytics_refresh"),
        *_site_get_urls(),
    ]


def _index(request: Any, extra_context: dict[str, Any] | None = None) -> Any:
    return _site_index(request, {**views.index_context(request), **(extra_context or {})})


admin.site.get_urls = _get_urls  # type: ignore[method-assign]
admin.site.index = _index  # type: ignore[method-assign]
admin.site.index_template = "admin/analytics/index.html"
