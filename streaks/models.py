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
