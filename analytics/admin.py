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


# -- experiments -------------------------------------------------------------------------------
from django import forms  # noqa: E402
from django.contrib import messages  # noqa: E402
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME  # noqa: E402
from django.db.models import QuerySet  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.template.response import TemplateResponse  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.html import format_html, format_html_join  # noqa: E402

from .experiments import experiment_end, experiment_results  # noqa: E402
from .models import Experiment, Variant  # noqa: E402


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 2
    min_num = 2
    raw_id_fields = ("template",)


class WinnerForm(forms.Form):
    winner = forms.ModelChoiceField(Variant.objects.none(), label="Winning variant")

    def __init__(self, *args: Any, experiment: Experiment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["winner"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = experiment.variants.select_related("template")


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    """Variants are templates with weights; players are bucketed by a hash of (key, player).
    The results table compares each variant with the first (the control)."""

    list_display = ("name", "key", "started_at", "ended_at", "winner")
    inlines = (VariantInline,)
    readonly_fields = ("results", "ended_at", "winner")
    fields = ("name", "key", "started_at", "ended_at", "winner", "results")
    actions = ("end_with_winner",)

    change_form_template = "admin/analytics/experiment/change_form.html"

    def render_change_form(
        self, request: Any, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        obj = kwargs.get("obj")
        if obj is not None and obj.pk:
            rows = experiment_results(obj.pk)
            # percentages to draw; the table above keeps the exact figures
            context["experiment_chart"] = {
                "labels": [r.template_key for r in rows],
                "rates": [round(r.rate * 100, 2) for r in rows],
                "intervals": [
                    [round(r.interval[0] * 100, 2), round(r.interval[1] * 100, 2)] for r in rows
                ],
            }
        return super().render_change_form(request, context, *args, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"started_at": timezone.now()}

    @admin.display(description="Results")
    def results(self, obj: Experiment) -> str:
        if not obj.pk:
            return "—"
        rows = experiment_results(obj.pk)
        header = format_html(
            "<tr><th>Variant</th><th>Weight</th><th>Assigned</th><th>Completed</th>"
            "<th>Rate (95 % interval)</th><th>p vs control</th><th>Reward cost</th></tr>"
        )
        body = format_html_join(
            "",
            '<tr data-variant="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
            "<td>{} % ({} – {} %)</td><td>{}</td><td>{} XP, {} DGT</td></tr>",
            (
                (
                    r.template_key,
                    r.template_key,
                    r.weight,
                    r.assigned,
                    r.completed,
                    f"{r.rate * 100:.1f}",
                    f"{r.interval[0] * 100:.1f}",
                    f"{r.interval[1] * 100:.1f}",
                    "control"
                    if r.p_value is None and i == 0
                    else ("—" if r.p_value is None else f"{r.p_value:.4f}"),
                    r.xp_cost,
                    format(r.dgt_cost.normalize(), "f") if r.dgt_cost else "0",
                )
                for i, r in enumerate(rows)
            ),
        )
        return format_html('<table class="experiment-results">{}{}</table>', header, body)

    @admin.action(description="End the experiment with a winner")
    def end_with_winner(
        self, request: HttpRequest, queryset: QuerySet[Experiment]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one experiment.", messages.WARNING)
            return None
        experiment = queryset.get()
        if not experiment.running:
            self.message_user(request, f"{experiment} has already ended.", messages.WARNING)
            return None
        form = WinnerForm(request.POST if "apply" in request.POST else None, experiment=experiment)
        if "apply" in request.POST and form.is_valid():
            winner = form.cleaned_data["winner"]
            losers = experiment_end(
                experiment_id=experiment.pk, winner_id=winner.pk, now=timezone.now()
            )
            self.message_user(
                request,
                f"{experiment} ended: {winner.template.key} stays active; "
                f"{len(losers)} other variant(s) deactivated.",
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/analytics/end_experiment.html",
            {
                **self.admin_site.each_context(request),
                "title": f"End {experiment}",
                "experiment": experiment,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )
