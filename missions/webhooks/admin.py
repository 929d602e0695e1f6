from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookEventType
from .services import webhook_redeliver


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The events this endpoint receives.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "secret", "events", "is_active"]
        widgets = {"secret": forms.PasswordInput(render_value=True)}
        help_texts = {
            "secret": "Shared secret for the X-Missions-Signature HMAC (docs/webhooks.md).",
            "is_active": "A disabled endpoint receives nothing, and its pending deliveries wait.",
        }


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "event_list", "is_active", "updated_at"]
    list_filter = ["is_active"]

    @admin.display(description="events")
    def event_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events or []) or "—"


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnly):
    list_display = ["id", "type", "created_at"]
    list_filter = ["type"]
    date_hierarchy = "created_at"


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly):
    list_display = [
        "id",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_attempt_at",
        "next_attempt_at",
    ]
    list_filter = ["status", "endpoint", "event__type"]
    list_select_related = ["event", "endpoint"]
    readonly_fields = [
        "event",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "delivered_at",
        "last_status_code",
        "last_response",
        "last_error",
    ]
    actions = ["redeliver"]

    @admin.display(description="event")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_staff)

    @admin.action(description="Redeliver the selected deliveries now")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = webhook_redeliver(delivery_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} deliveries queued again.", messages.SUCCESS)
