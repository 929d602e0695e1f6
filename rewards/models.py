from __future__ import annotations

from decimal import Decimal

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


# ---------------------------------------------------------------------------------------------
# Ledger: XP and DGT move only through append-only entries (a database trigger refuses UPDATE
# and DELETE). A Balance is a cache of the sum of a user's entries; `check_ledger` proves it.
# ---------------------------------------------------------------------------------------------


class LedgerEntry(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    xp = models.BigIntegerField(default=0)
    dgt = models.DecimalField(max_digits=24, decimal_places=8, default=Decimal(0))
    # The sender's idempotency key: "mission:<id>", "meta:<key>:user:<id>", ...
    idempotency_key = models.CharField(max_length=200, unique=True)
    reason = models.CharField(max_length=255)
    # Set for mission payouts; check_ledger counts exactly one per claimed mission.
    mission = models.ForeignKey(
        "missions.ActiveMission",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["user", "created_at"], name="ledger_user_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["mission"],
                condition=models.Q(mission__isnull=False),
                name="one_ledger_grant_per_mission",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.xp:+d} XP {self.dgt:+} DGT ({self.reason})"


class Balance(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="balance"
    )
    xp = models.BigIntegerField(default=0)
    dgt = models.DecimalField(max_digits=24, decimal_places=8, default=Decimal(0))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.xp} XP, {self.dgt} DGT"


class ClaimSource(models.TextChoices):
    CLAIM = "claim"
    AUTO_GRANT = "auto_grant"
    # A competitive mission's tier reward, paid by the finaliser at period end.
    COMPETITIVE = "competitive"


class Claim(models.Model):
    """The history row of one mission payout: base rewards, each bonus, what was granted."""

    mission = models.OneToOneField(
        "missions.ActiveMission", on_delete=models.PROTECT, related_name="claim"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims"
    )
    ledger_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=16, choices=ClaimSource.choices)
    base_rewards = models.JSONField(default=dict)
    bonuses = models.JSONField(default=list)
    granted = models.JSONField(default=dict)
    meta_badges = models.JSONField(default=list)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="claim_user_created")]

    def __str__(self) -> str:
        return f"claim of mission {self.mission_id} by {self.user_id}"


class MetaRule(models.TextChoices):
    MISSIONS_COMPLETED = "missions_completed", "N missions completed"
    CATEGORY_COMPLETED = "category_completed", "N missions of one category completed"
    ALL_CATEGORIES = "all_categories", "a mission of every category completed"
    DAILY_STREAK = "daily_streak", "N-day streak"
    WEEKLY_STREAK = "weekly_streak", "N-week streak"


class MetaAchievement(models.Model):
    """A badge earned by a pattern of missions, checked inside each claim's transaction."""

    key = models.SlugField(max_length=100, unique=True)
    rule = models.CharField(max_length=32, choices=MetaRule.choices)
    threshold = models.PositiveIntegerField(default=1)
    category = models.CharField(
        max_length=32, blank=True, default="", help_text="category_completed only."
    )
    badge = models.ForeignKey(Badge, on_delete=models.PROTECT, related_name="+")
    rewards = models.JSONField(
        default=dict, blank=True, help_text='Extra rewards, e.g. {"xp": 100, "dgt": "5"}.'
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key}: {self.get_rule_display()} ≥ {self.threshold}"

    def clean(self) -> None:
        # Reuse the template validator so admin-entered rewards obey the same rules.
        from django.core.exceptions import ValidationError

        from missions.models import Category
        from missions.validation import _Errors, validate_rewards

        errors = _Errors()
        self.rewards = validate_rewards(errors, "rewards", self.rewards or {})
        problems: dict[str, list[str]] = {}
        if errors:
            problems["rewards"] = [
                f"{path} {msg}" for path, m in errors.by_field.items() for msg in m
            ]
        if self.rule == MetaRule.CATEGORY_COMPLETED and self.category not in Category.values:
            problems["category"] = ["must be one of " + ", ".join(Category.values)]
        if problems:
            raise ValidationError(problems)


class CompetitiveStanding(models.Model):
    """The final leaderboard of a competitive template's period: one row per qualifying
    player, written once by the finaliser (rewards/services/competitive.py)."""

    mission = models.OneToOneField(
        "missions.ActiveMission", on_delete=models.PROTECT, related_name="standing"
    )
    template = models.ForeignKey(
        "missions.MissionTemplate", on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="standings"
    )
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    rank = models.PositiveIntegerField()
    score = models.DecimalField(max_digits=24, decimal_places=8)
    # When the player reached that score (the tie-break: earlier ranks first).
    reached_at = models.DateTimeField(null=True, blank=True)
    # The tier paid (its rank_to), null when the rank is below every tier.
    tier_rank_to = models.PositiveIntegerField(null=True, blank=True)
    rewards = models.JSONField(default=dict, blank=True)
    players = models.PositiveIntegerField(help_text="How many players were ranked.")
    finalized_at = models.DateTimeField()

    class Meta:
        ordering = ["template", "-period_start", "rank", "user_id"]
        indexes = [
            models.Index(fields=["template", "period_start", "rank"], name="standing_board"),
        ]

    def __str__(self) -> str:
        return f"{self.template_id} {self.period_start:%Y-%m-%d} #{self.rank} user {self.user_id}"
