from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .catalog import FIELD_TYPES
from .errors import DomainError, TemplateInvalid
from .json_limits import LIMITED_JSON_FORMFIELD
from .models import (
    ActionType,
    ActiveMission,
    Event,
    MissionProgress,
    MissionTemplate,
    PlayerProfile,
    ServiceKey,
)
from .validation import ACTION_RE, validate_template

TEMPLATE_JSON_FIELDS = ("requirements", "rewards", "prerequisites", "metadata")
TEMPLATE_FORM_FIELDS = (
    "key",
    "name",
    "description",
    "category",
    "type",
    "period_type",
    "weight",
    "min_level",
    "max_level",
    "cooldown_hours",
    "starts_at",
    "ends_at",
    "is_active",
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For what only services may write: missions and progress (derived from the event log,
    invariant 1), the event log itself, and the ledger. The admin can look, never write."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MissionTemplateForm(forms.ModelForm):
    """Runs the shared template validator and puts each error on its field."""

    class Meta:
        model = MissionTemplate
        fields = [*TEMPLATE_FORM_FIELDS, *TEMPLATE_JSON_FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        data = {
            name: cleaned.get(name)
            for name in (*TEMPLATE_FORM_FIELDS, *TEMPLATE_JSON_FIELDS)
            if name in cleaned
        }
        for name in ("starts_at", "ends_at"):
            if data.get(name) is None:
                data.pop(name, None)
        try:
            valid = validate_template(data)
        except TemplateInvalid as exc:
            for path, messages in exc.errors.items():
                field = path.split(".")[0]
                target = field if field in self.fields else None
                for message in messages:
                    self.add_error(target, f"{path}: {message}" if target != path else message)
            return cleaned
        for name in TEMPLATE_JSON_FIELDS:
            cleaned[name] = valid[name]
        return cleaned


@admin.register(MissionTemplate)
class MissionTemplateAdmin(admin.ModelAdmin):
    form = MissionTemplateForm
    formfield_overrides = LIMITED_JSON_FORMFIELD
    list_display = (
        "key",
        "name",
        "category",
        "type",
        "period_type",
        "weight",
        "min_level",
        "max_level",
        "is_active",
    )
    list_filter = ("is_active", "period_type", "category", "type")
    search_fields = ("key", "name", "description")
    readonly_fields = ("created_at", "updated_at")

    def save_model(self, request: Any, obj: MissionTemplate, form: Any, change: bool) -> None:
        from .services.templates import templates_changed

        super().save_model(request, obj, form, change)
        templates_changed()


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
class PlayerProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "level", "created_at")
    search_fields = ("user__username",)
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
