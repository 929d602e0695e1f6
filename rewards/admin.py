from django.contrib import admin

from .models import Badge, InventoryItem, Item, Title, UserBadge, UserTitle


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
