from django.contrib import admin

from missions.admin import ReadOnlyAdmin
from missions.json_limits import LIMITED_JSON_FORMFIELD

from .models import (
    Badge,
    Balance,
    Claim,
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
class InventoryItemAdmin(admin.ModelAdmin):
    list_display = ("user", "item", "qty")
    search_fields = ("user__username", "item__key")
    raw_id_fields = ("user",)


@admin.register(UserBadge, UserTitle)
class AwardAdmin(admin.ModelAdmin):
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
