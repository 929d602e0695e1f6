from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from .errors import TemplateInvalid
from .models import ActiveMission, MissionProgress, MissionTemplate, PlayerProfile
from .validation import validate_template

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
class ActiveMissionAdmin(admin.ModelAdmin):
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
class MissionProgressAdmin(admin.ModelAdmin):
    list_display = ("mission", "requirement_key", "action", "current", "target", "done_at")
    search_fields = ("requirement_key", "action")
    raw_id_fields = ("mission", "user")


@admin.register(PlayerProfile)
class PlayerProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "level", "created_at")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
