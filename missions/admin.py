from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from .builder.forms import MissionTemplateAdminForm
from .catalog import FIELD_TYPES
from .errors import DomainError, TemplateInvalid
from .json_limits import LIMITED_JSON_FORMFIELD
from .models import (
    ActionType,
    ActiveMission,
    Event,
    LifecycleRun,
    MissionProgress,
    MissionTemplate,
    PlayerProfile,
    RetiredPartition,
    ServiceKey,
)
from .validation import ACTION_RE


class ReadOnlyAdmin(admin.ModelAdmin):
    """For what only services may write: missions and progress (derived from the event log,
    invariant 1), the event log itself, and the ledger. The admin can look, never write."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MissionTemplate)
class MissionTemplateAdmin(admin.ModelAdmin):
    """The mission builder: structured editors, a live preview, a backtest on recorded events,
    publishing actions (missions/builder/)."""

    form = MissionTemplateAdminForm
    formfield_overrides = LIMITED_JSON_FORMFIELD
    change_form_template = "admin/missions/missiontemplate/change_form.html"
    list_display = (
        "key",
        "name",
        "category",
        "type",
        "period_type",
        "weight",
        "is_active",
        "players_now",
        "completion_rate",
        "claims",
    )
    list_filter = ("is_active", "period_type", "category", "type")
    actions = ("activate", "deactivate", "duplicate", "assign_now")
    search_fields = ("key", "name", "description")
    readonly_fields = ("created_at", "updated_at", "publishing")
    fieldsets = (
        ("Publishing", {"fields": ("publishing",)}),
        (None, {"fields": ("key", "name", "description", "category", "type", "period_type")}),
        ("Requirements", {"fields": ("requirements",), "classes": ("builder-requirements",)}),
        ("Rewards", {"fields": ("rewards",)}),
        ("Type settings and display", {"fields": ("metadata",)}),
        (
            "Who gets it",
            {
                "fields": (
                    ("is_active", "publish_over_budget"),
                    "weight",
                    ("min_level", "max_level"),
                    "cooldown_hours",
                    "prerequisites",
                    ("starts_at", "ends_at"),
                )
            },
        ),
        (
            "Raw JSON (power users)",
            {"fields": ("use_raw_json", "raw_json"), "classes": ("collapse",)},
        ),
        ("History", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    def get_urls(self) -> list[Any]:
        from .builder import views

        wrap = self.admin_site.admin_view
        return [
            path("builder/fields/", wrap(views.builder_fields), name="missions_builder_fields"),
            path("builder/preview/", wrap(views.builder_preview), name="missions_builder_preview"),
            path(
                "builder/backtest/", wrap(views.builder_backtest), name="missions_builder_backtest"
            ),
            *super().get_urls(),
        ]

    def render_change_form(
        self, request: Any, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        from .builder.schemas import TYPE_HELP
        from .builder.views import BACKTEST_DAYS

        form = context["adminform"].form
        context["type_help"] = TYPE_HELP.get(form.mission_type() or "", "Pick a mission type.")
        context["backtest_days"] = BACKTEST_DAYS
        return super().render_change_form(request, context, *args, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        return fieldsets if obj is not None else fieldsets[1:]

    def save_model(self, request: Any, obj: MissionTemplate, form: Any, change: bool) -> None:
        from .services.templates import templates_changed

        super().save_model(request, obj, form, change)
        templates_changed()
        for warning in getattr(form, "budget_warnings", []):
            # the form refused it until "publish over budget" was ticked
            self.message_user(
                request, f"{obj.key} published over budget: {warning}.", messages.WARNING
            )

    def _budget_warnings(self, templates: Any) -> dict[str, list[str]]:
        """Per template key, what its 14-day backtest would break of the daily budgets."""
        from analytics.economy import daily_budget, template_budget_warnings

        from .builder.forms import template_as_json
        from .validation import validate_template

        if not daily_budget().any:  # nothing to check: no backtest
            return {}
        now = timezone.now()
        found = {}
        for template in templates:
            try:
                data = validate_template({**template_as_json(template), "is_active": True})
            except TemplateInvalid as exc:  # stored before a validator change: say so
                found[template.key] = [f"cannot be backtested: {exc}"]
                continue
            warnings = template_budget_warnings(template=data, now=now)
            if warnings:
                found[template.key] = warnings
        return found

    # -- publishing ------------------------------------------------------------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet[MissionTemplate]:
        from .builder.selectors import template_stats_annotations

        return template_stats_annotations(super().get_queryset(request), now=timezone.now())

    @admin.display(description="Players now", ordering="stat_holding_now")
    def players_now(self, obj: MissionTemplate) -> int:
        return int(getattr(obj, "stat_holding_now", 0))

    @admin.display(description="Completion rate")
    def completion_rate(self, obj: MissionTemplate) -> str:
        assigned = int(getattr(obj, "stat_assigned", 0))
        completed = int(getattr(obj, "stat_completed", 0))
        return f"{completed * 100 / assigned:.1f} %" if assigned else "—"

    @admin.display(description="Claims", ordering="stat_claimed")
    def claims(self, obj: MissionTemplate) -> int:
        return int(getattr(obj, "stat_claimed", 0))

    @admin.display(description="Now")
    def publishing(self, obj: MissionTemplate) -> str:
        from .builder.selectors import TemplateStats, template_stats

        stats = template_stats(template_ids=[obj.pk], now=timezone.now()).get(
            obj.pk, TemplateStats()
        )
        rate = stats.completion_rate
        return (
            f"{'Active' if obj.is_active else 'Inactive'}; {stats.holding_now} player(s) have it "
            f"now; {stats.completed} of {stats.assigned} assigned completed"
            f"{'' if rate is None else f' ({rate * 100:.1f} %)'}; {stats.claimed} claimed. "
            "Activate, deactivate, duplicate and assign now from the template list's actions."
        )

    def _log_changes(self, request: HttpRequest, templates: Any, message: str) -> None:
        from .services.templates import templates_changed

        for template in templates:
            self.log_change(request, template, message)
        transaction.on_commit(templates_changed)

    @admin.action(description="Activate selected templates")
    def activate(self, request: HttpRequest, queryset: QuerySet[MissionTemplate]) -> Any:
        changed = list(queryset.filter(is_active=False))
        over = self._budget_warnings(changed)
        if over and request.POST.get("confirm_over_budget") != "yes":
            # Like delete_selected: an intermediate page; nothing changes until confirmed.
            return TemplateResponse(
                request,
                "admin/missions/missiontemplate/activate_over_budget.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Activate over the emission budget?",
                    "opts": self.model._meta,
                    "over": sorted(over.items()),
                    "templates": changed,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        MissionTemplate.objects.filter(pk__in=[t.pk for t in changed]).update(is_active=True)
        self._log_changes(request, changed, "Activated.")
        self.message_user(request, f"Activated {len(changed)} template(s).", messages.SUCCESS)
        for key, warnings in sorted(over.items()):
            for warning in warnings:
                self.message_user(
                    request, f"{key} published over budget: {warning}.", messages.WARNING
                )
        return None

    @admin.action(description="Deactivate selected templates")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[MissionTemplate]) -> None:
        changed = list(queryset.filter(is_active=True))
        MissionTemplate.objects.filter(pk__in=[t.pk for t in changed]).update(is_active=False)
        self._log_changes(request, changed, "Deactivated.")
        self.message_user(
            request,
            f"Deactivated {len(changed)} template(s); missions already assigned run to their end.",
            messages.SUCCESS,
        )

    @admin.action(description="Duplicate selected templates (as inactive copies)")
    def duplicate(self, request: HttpRequest, queryset: QuerySet[MissionTemplate]) -> None:
        made = []
        for template in queryset:
            key = _free_key(f"{template.key}_copy")
            copy = MissionTemplate.objects.get(pk=template.pk)
            copy.pk = None
            copy.key, copy.name, copy.is_active = key, f"{template.name} (copy)", False
            copy.save()
            self.log_addition(request, copy, f"Duplicated from {template.key}.")
            made.append(key)
        self.message_user(request, f"Created {', '.join(made)} (inactive).", messages.SUCCESS)

    @admin.action(description="Assign now to eligible players")
    def assign_now(self, request: HttpRequest, queryset: QuerySet[MissionTemplate]) -> None:
        from .services.publishing import template_assign_now

        now = timezone.now()
        for template in queryset:
            if not template.is_active:
                self.message_user(request, f"{template.key}: activate it first.", messages.WARNING)
                continue
            created = template_assign_now(template=template, now=now)
            self.message_user(
                request,
                f"{template.key}: assigned to {created} more player(s) for the current period.",
                messages.SUCCESS,
            )


def _free_key(base: str) -> str:
    taken = set(MissionTemplate.objects.filter(key__startswith=base).values_list("key", flat=True))
    if base not in taken:
        return base
    return next(f"{base}{n}" for n in range(2, 10_000) if f"{base}{n}" not in taken)


class MissionProgressInline(admin.TabularInline):
    model = MissionProgress
    extra = 0
    fields = ("requirement_key", "action", "current", "target", "done_at")
    readonly_fields = fields
    can_delete = False


@admin.register(ActiveMission)
class ActiveMissionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "user",
        "template",
        "period_type",
        "period_start",
        "state",
        "completed_at",
        "claimed_at",
    )
    list_filter = ("state", "period_type")
    search_fields = ("user__username", "template__key")
    raw_id_fields = ("user", "template")
    date_hierarchy = "period_start"
    inlines = [MissionProgressInline]


@admin.register(MissionProgress)
class MissionProgressAdmin(ReadOnlyAdmin):
    list_display = ("mission", "requirement_key", "action", "current", "target", "done_at")
    search_fields = ("requirement_key", "action")
    raw_id_fields = ("mission", "user")


@admin.register(PlayerProfile)
class PlayerProfileAdmin(ReadOnlyAdmin):
    """The level follows XP (rewards/levels.py): read-only here. The rewards app adds the
    grant action (rewards/admin.py)."""

    list_display = ("user", "level", "timezone", "rollover_at", "created_at")
    search_fields = ("user__username", "timezone")
    raw_id_fields = ("user",)


class ActionTypeForm(forms.ModelForm):
    class Meta:
        model = ActionType
        fields = ["action", "description", "fields", "required"]

    def clean_action(self) -> str:
        action = self.cleaned_data["action"]
        if not ACTION_RE.match(action):
            raise forms.ValidationError('must look like "post:created" (noun:verb, lowercase)')
        return action

    def clean_fields(self) -> dict[str, str]:  # type: ignore[override]
        fields = self.cleaned_data.get("fields") or {}
        if not isinstance(fields, dict):
            raise forms.ValidationError('must be an object {"field": "int|number|str|bool"}')
        for name, kind in fields.items():
            if kind not in FIELD_TYPES:
                raise forms.ValidationError(
                    f"{name}: type must be one of {', '.join(FIELD_TYPES)}, got {kind!r}"
                )
        return fields

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        required = cleaned.get("required") or []
        fields = cleaned.get("fields") or {}
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            self.add_error("required", "must be a list of field names")
        else:
            for name in required:
                if name not in fields:
                    self.add_error("required", f"{name} is not one of the fields")
        return cleaned


@admin.register(ActionType)
class ActionTypeAdmin(admin.ModelAdmin):
    """The action catalog: events are validated against it (saving clears its cache)."""

    form = ActionTypeForm
    formfield_overrides = LIMITED_JSON_FORMFIELD
    list_display = ("action", "description", "fields", "required", "updated_at")
    search_fields = ("action", "description")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """The event log is append-only: readable here, never edited."""

    list_display = ("id", "event_id", "user", "action", "occurred_at", "received_at")
    list_filter = ("action",)
    search_fields = ("event_id", "user__username")
    raw_id_fields = ("user",)
    date_hierarchy = "occurred_at"


class ServiceKeyForm(forms.ModelForm):
    class Meta:
        model = ServiceKey
        fields = ["name"]


@admin.register(ServiceKey)
class ServiceKeyAdmin(admin.ModelAdmin):
    """Creating a key shows it once; only its hash is stored. Revoke, don't delete."""

    form = ServiceKeyForm
    list_display = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("name", *self.readonly_fields) if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ServiceKey, form: Any, change: bool) -> None:
        if change:
            return
        from .services.service_keys import service_key_create

        try:
            key, raw = service_key_create(name=obj.name)
        except DomainError as exc:
            messages.error(request, exc.message)
            return
        obj.pk, obj.prefix, obj.key_hash = key.pk, key.prefix, key.key_hash
        messages.success(
            request,
            f"Service key {key.name!r}: {raw}  (copy it now; it is not shown again)",
        )

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ServiceKey]) -> None:
        from .services.service_keys import service_key_revoke

        for key in queryset:
            service_key_revoke(key_id=key.pk)
        messages.success(request, f"Revoked {queryset.count()} key(s).")


@admin.register(LifecycleRun)
class LifecycleRunAdmin(ReadOnlyAdmin):
    """What the scheduler did: one row per rollover or special window, with its counts. A
    row without `finished_at` is running, or died (the next scheduled run retries it)."""

    list_display = ("key", "job", "started_at", "finished_at", "result")
    list_filter = ("job",)
    search_fields = ("key",)


@admin.register(RetiredPartition)
class RetiredPartitionAdmin(ReadOnlyAdmin):
    """Months of the event log that left it (docs/events.md "The log over years"): the newest
    range end is where the log, replay and the backtest now start."""

    list_display = ("name", "range_start", "range_end", "retired_at", "events", "snapshots")
    list_filter = ("dropped",)
