from __future__ import annotations

from django.conf import settings
from django.db import models


class StreakKind(models.TextChoices):
    DAILY = "daily"
    WEEKLY = "weekly"


class Streak(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="streaks"
    )
    kind = models.CharField(max_length=8, choices=StreakKind.choices)
    current = models.PositiveIntegerField(default=0)
    best = models.PositiveIntegerField(default=0)
    # The UTC day (daily) or the Monday of the ISO week (weekly) last counted.
    last_completed = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_streak_per_kind")]

    def __str__(self) -> str:
        return f"{self.user} {self.kind}: {self.current} (best {self.best})"


class StreakBreak(models.Model):
    """A streak that ended: the first period missed and the length that was lost."""

    streak = models.ForeignKey(Streak, on_delete=models.CASCADE, related_name="breaks")
    # The first missed UTC day (daily) or Monday of the first missed ISO week (weekly).
    missed_from = models.DateField()
    length = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-missed_from", "-id"]

    def __str__(self) -> str:
        return f"{self.streak} broke at {self.missed_from} after {self.length}"


class StreakFreezeUse(models.Model):
    """A `streak_freeze` item consumed to cover one missed day."""

    streak = models.ForeignKey(Streak, on_delete=models.CASCADE, related_name="freezes_used")
    covered_day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-covered_day"]
        constraints = [
            models.UniqueConstraint(fields=["streak", "covered_day"], name="one_freeze_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.streak} frozen on {self.covered_day}"


class StreakRestore(models.Model):
    """An admin's restore of a broken streak (after outages), with the reason."""

    streak = models.ForeignKey(Streak, on_delete=models.CASCADE, related_name="restores")
    restored_break = models.ForeignKey(
        StreakBreak, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    previous_current = models.PositiveIntegerField()
    new_current = models.PositiveIntegerField()
    reason = models.TextField()
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.streak}: {self.previous_current} → {self.new_current}"


class StreakCredit(models.Model):
    """A completed daily/weekly mission whose day (or week) the streaks have counted.

    The durable outbox of streak steps: the completion itself (the mission's committed
    state) is the message, and this row its acknowledgement. A completion without a credit
    was not counted yet (the process died after the commit, before the receiver); the next
    completion of that player, or the `streaks.credit_pending` task, counts it in order.
    """

    mission = models.OneToOneField(
        "missions.ActiveMission", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=StreakKind.choices)
    unit = models.DateField()
    credited_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.unit} (mission {self.mission_id})"
