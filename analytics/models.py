"""Rollups the dashboard reads: one row per (day, template) and one per day, rebuilt from the
missions, the event log and the ledger by `analytics_refresh` (a Celery task and a button),
so a page view never scans raw events."""

from __future__ import annotations

from decimal import Decimal

from django.db import models


class TemplateDay(models.Model):
    """Missions of one template whose period started on `day` (a cohort), and what became
    of them."""

    day = models.DateField()
    template = models.ForeignKey(
        "missions.MissionTemplate", on_delete=models.CASCADE, related_name="+"
    )
    category = models.CharField(max_length=32)
    difficulty = models.CharField(max_length=16, blank=True, default="")
    assigned = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    # the period ended before completion (state "expired")
    abandoned = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    claimed = models.PositiveIntegerField(default=0)
    # sum over completed missions of (completed_at - assigned_at), in seconds
    seconds_to_complete = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "template"], name="one_rollup_per_template_day")
        ]
        indexes = [models.Index(fields=["day"], name="rollup_template_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.template_id}: {self.completed}/{self.assigned}"


class DayTotals(models.Model):
    day = models.DateField(unique=True)
    # distinct players with at least one event that day (UTC)
    active_players = models.PositiveIntegerField(default=0)
    # mission payouts granted that day (claims and auto-grants, bonuses included)
    xp_awarded = models.BigIntegerField(default=0)
    dgt_awarded = models.DecimalField(max_digits=24, decimal_places=8, default=Decimal(0))
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "day totals"

    def __str__(self) -> str:
        return f"{self.day}: {self.active_players} active"


class Experiment(models.Model):
    """An A/B test between templates (its variants). While it runs, each player gets only the
    variant their bucket names; ending it keeps the winner active and deactivates the rest."""

    key = models.SlugField(max_length=100, unique=True, help_text="Seeds the bucketing.")
    name = models.CharField(max_length=255)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    winner = models.ForeignKey(
        "Variant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def running(self) -> bool:
        return self.ended_at is None


class Variant(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    template = models.ForeignKey(
        "missions.MissionTemplate", on_delete=models.PROTECT, related_name="+"
    )
    weight = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "template"], name="one_variant_per_template"
            )
        ]

    def __str__(self) -> str:
        return f"{self.experiment.key}: {self.template.key} ×{self.weight}"
