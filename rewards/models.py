from __future__ import annotations

from django.conf import settings
from django.db import models


class CatalogEntry(models.Model):
    key = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    icon = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        abstract = True
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name


class Item(CatalogEntry):
    """An inventory item a mission can grant (e.g. `streak_freeze`)."""


class Badge(CatalogEntry):
    pass


class Title(CatalogEntry):
    pass


class InventoryItem(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inventory"
    )
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    qty = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "item"], name="one_inventory_row_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.item_id} ×{self.qty}"


class UserBadge(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="badges"
    )
    badge = models.ForeignKey(Badge, on_delete=models.PROTECT, related_name="+")
    awarded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "badge"], name="one_badge_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}: badge {self.badge_id}"


class UserTitle(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="titles"
    )
    title = models.ForeignKey(Title, on_delete=models.PROTECT, related_name="+")
    awarded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "title"], name="one_title_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}: title {self.title_id}"
