import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from missions.admin import PlayerProfileAdmin, ReadOnlyAdmin
from missions.json_limits import LIMITED_JSON_FORMFIELD
from missions.models import PlayerProfile
from missions.validation import _Errors, validate_rewards

from .models import (
    Badge,
    Balance,
    Claim,
    CompetitiveStanding,
    InventoryItem,
    Item,
    LedgerEntry,
    MetaAchievement,
    Title,
    UserBadge,
    UserTitle,
)


@admin.register(Item, Badge, Title)
class CatalogAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "icon")
    search_fields = ("key", "name")


@admin.register(InventoryItem)
class InventoryItemAdmin(ReadOnlyAdmin):
    """Read-only: items reach players through rewards_grant (the grant action on players)."""

    list_display = ("user", "item", "qty")
    search_fields = ("user__username", "item__key")
    raw_id_fields = ("user",)


@admin.register(UserBadge, UserTitle)
class AwardAdmin(ReadOnlyAdmin):
    """Read-only: badges and titles are awarded through rewards_grant."""

    list_display = ("user", "awarded_at")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


@admin.register(MetaAchievement)
class MetaAchievementAdmin(admin.ModelAdmin):
    formfield_overrides = LIMITED_JSON_FORMFIELD
    list_display = ("key", "rule", "threshold", "category", "badge", "is_active")
    list_filter = ("rule", "is_active")
    search_fields = ("key", "badge__key")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "xp", "dgt", "reason", "idempotency_key")
    search_fields = ("user__username", "idempotency_key", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("user",)


@admin.register(Balance)
class BalanceAdmin(ReadOnlyAdmin):
    list_display = ("user", "xp", "dgt", "updated_at")
    search_fields = ("user__username",)
    list_select_related = ("user",)


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "mission", "source")
    list_filter = ("source",)
    search_fields = ("user__username",)
    list_select_related = ("user", "mission")


@admin.register(CompetitiveStanding)
class CompetitiveStandingAdmin(ReadOnlyAdmin):
    list_display = ("template", "period_start", "rank", "user", "score", "tier_rank_to")
    list_filter = ("template",)
    raw_id_fields = ("user", "mission", "template")


class GrantForm(forms.Form):
    """What an admin grants by hand; checked by the template validator's reward rules."""

    xp = forms.IntegerField(required=False, min_value=0, label="XP")
    dgt = forms.CharField(required=False, label="DGT", help_text='Exact decimal, e.g. "2.5".')
    item = forms.ModelChoiceField(Item.objects.all(), required=False, to_field_name="key")
    qty = forms.IntegerField(required=False, min_value=1, initial=1, label="Item quantity")
    badge = forms.ModelChoiceField(Badge.objects.all(), required=False, to_field_name="key")
    title = forms.ModelChoiceField(Title.objects.all(), required=False, to_field_name="key")
    reason = forms.CharField(max_length=200, help_text="Recorded in the ledger entry.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        rewards: dict[str, Any] = {}
        if cleaned.get("xp"):
            rewards["xp"] = cleaned["xp"]
        if cleaned.get("dgt"):
            rewards["dgt"] = cleaned["dgt"].strip()
        if cleaned.get("item"):
            rewards["items"] = [{"key": cleaned["item"].key, "qty": cleaned.get("qty") or 1}]
        if cleaned.get("badge"):
            rewards["badges"] = [cleaned["badge"].key]
        if cleaned.get("title"):
            rewards["titles"] = [cleaned["title"].key]
        if not rewards:
            raise forms.ValidationError("Grant at least one of XP, DGT, an item, a badge, a title.")
        errors = _Errors()
        cleaned["rewards"] = validate_rewards(errors, "rewards", rewards)
        for path, problems in errors.by_field.items():
            field = path.split(".")[1] if "." in path else None
            field = {"items": "item", "badges": "badge", "titles": "title"}.get(field or "", field)
            for problem in problems:
                self.add_error(field if field in self.fields else None, problem)
        return cleaned


admin.site.unregister(PlayerProfile)


@admin.register(PlayerProfile)
class PlayerAdmin(PlayerProfileAdmin):
    """Players are read-only here; XP, DGT, items, badges and titles change only through the
    grant action, which goes through rewards_grant with the admin's reason in the ledger."""

    actions = ("grant_rewards",)

    @admin.action(description="Grant rewards (with a reason, through the ledger)")
    def grant_rewards(
        self, request: HttpRequest, queryset: QuerySet[PlayerProfile]
    ) -> HttpResponse | None:
        from .services import rewards_grant

        form = GrantForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            batch = uuid.uuid4().hex
            for profile in queryset:
                rewards_grant(
                    user_id=profile.user_id,
                    rewards=form.cleaned_data["rewards"],
                    idempotency_key=f"admin:grant:{batch}:user:{profile.user_id}",
                    reason=f"admin grant by {request.user}: {form.cleaned_data['reason']}",
                )
            self.message_user(
                request, f"Granted to {queryset.count()} player(s).", messages.SUCCESS
            )
            return None
        return TemplateResponse(
            request,
            "admin/rewards/grant.html",
            {
                **self.admin_site.each_context(request),
                "title": "Grant rewards",
                "players": queryset.select_related("user"),
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )
