from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.db import models

# Perpetual missions have one period that never ends; it starts here.
PERPETUAL_START = datetime(2000, 1, 1, tzinfo=UTC)


class Category(models.TextChoices):
    PARTICIPATION = "participation"
    SOCIAL = "social"
    TRADING = "trading"
    CONTENT = "content"
    ENGAGEMENT = "engagement"
    ACHIEVEMENT = "achievement"
    SPECIAL_EVENT = "special_event"
    VIP_EXCLUSIVE = "vip_exclusive"


class MissionType(models.TextChoices):
    COUNT = "count"
    THRESHOLD = "threshold"
    STREAK = "streak"
    TIMEBOUND = "timebound"
    COMBO = "combo"
    UNIQUE = "unique"
    COMPETITIVE = "competitive"


class PeriodType(models.TextChoices):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    SPECIAL = "special"
    PERPETUAL = "perpetual"


# Period types whose missions are drawn by weight; the others go to every eligible player.
DRAWN_PERIOD_TYPES = (PeriodType.DAILY, PeriodType.WEEKLY, PeriodType.MONTHLY)


class MissionTemplate(models.Model):
    key = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    category = models.CharField(max_length=32, choices=Category.choices)
    type = models.CharField(max_length=32, choices=MissionType.choices)
    period_type = models.CharField(
        max_length=16, choices=PeriodType.choices, default=PeriodType.DAILY
    )
    # blank: the shared validator explains what is missing, field by field
    requirements = models.JSONField(default=dict, blank=True)
    rewards = models.JSONField(default=dict, blank=True)
    prerequisites = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    weight = models.PositiveIntegerField(default=100)
    min_level = models.PositiveIntegerField(default=1)
    max_level = models.PositiveIntegerField(null=True, blank=True, help_text="Empty = no cap.")
    cooldown_hours = models.PositiveIntegerField(null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Special missions only.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Special missions only.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        indexes = [
            models.Index(fields=["is_active", "period_type"], name="tmpl_active_period"),
            models.Index(fields=["category"], name="tmpl_category"),
            models.Index(fields=["min_level", "max_level"], name="tmpl_level"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class MissionState(models.TextChoices):
    ACTIVE = "active"
    COMPLETED = "completed"
    CLAIMED = "claimed"
    # The period ended before completion ("abandoned" in analytics).
    EXPIRED = "expired"
    # A timebound mission whose time limit ran out.
    FAILED = "failed"


class ActiveMission(models.Model):
    """A template assigned to one player for one period instance."""

    # No single-column indexes on the foreign keys: the composite indexes below lead with
    # them, and each extra index is written for every row the daily rollover inserts.
    template = models.ForeignKey(
        MissionTemplate, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="missions", db_index=False
    )
    period_type = models.CharField(max_length=16, choices=PeriodType.choices)
    period_start = models.DateTimeField()
    # Null for perpetual missions: the period never ends.
    period_end = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        max_length=16, choices=MissionState.choices, default=MissionState.ACTIVE
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "template", "period_start"], name="one_mission_per_period"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "state"], name="mission_user_state"),
            models.Index(
                fields=["user", "period_type", "period_start"], name="mission_user_period"
            ),
            models.Index(fields=["state", "period_end"], name="mission_state_end"),
            models.Index(fields=["template", "period_start"], name="mission_tmpl_period"),
            # The speed bonus's average: a template's completions in a time window.
            models.Index(fields=["template", "completed_at"], name="mission_tmpl_completed"),
        ]

    def __str__(self) -> str:
        return f"{self.template_id}→{self.user_id} [{self.period_start:%Y-%m-%d}] {self.state}"


class MissionProgress(models.Model):
    """Progress of one requirement of one active mission."""

    # Indexed by one_progress_per_requirement and progress_user_action, which lead with them.
    mission = models.ForeignKey(
        ActiveMission, on_delete=models.CASCADE, related_name="progress", db_index=False
    )
    # Denormalised from the mission so event matching is one indexed lookup.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    requirement_key = models.CharField(max_length=100)
    action = models.CharField(max_length=100)
    current = models.DecimalField(max_digits=24, decimal_places=8, default=Decimal(0))
    # Snapshot of the template's target at assignment; a later edit does not move goalposts.
    target = models.DecimalField(max_digits=24, decimal_places=8)
    done_at = models.DateTimeField(null=True, blank=True)
    # occurred_at of the last event that moved `current` (leaderboard tie-break: earlier first).
    reached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mission", "requirement_key"], name="one_progress_per_requirement"
            ),
        ]
        indexes = [models.Index(fields=["user", "action"], name="progress_user_action")]
        verbose_name_plural = "mission progress"

    def __str__(self) -> str:
        return f"{self.requirement_key}: {self.current}/{self.target}"

    @property
    def done(self) -> bool:
        return self.current >= self.target


class PlayerProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    level = models.PositiveIntegerField(default=1, db_index=True)
    # The IANA zone the player chose (validated by missions.periods.zone_validate); their
    # days, weeks and months start at its local midnight.
    timezone = models.CharField(max_length=64, default="UTC")
    # Empty, or every zone the player lived in with the instants each took effect
    # (missions.periods.Schedule): a change governs from the end of the period in progress.
    timezone_history = models.JSONField(default=list, blank=True)
    # When this player's current drawn periods end (their next local midnight): the
    # rollover takes players whose instant has passed; null = not rolled over yet.
    rollover_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["rollover_at"], name="profile_rollover_at")]

    def __str__(self) -> str:
        return f"{self.user} (level {self.level})"


class ActionType(models.Model):
    """One entry of the action catalog: an action and the types of its data fields."""

    action = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=255, blank=True, default="")
    # {field: "int" | "number" | "str" | "bool"}
    fields = models.JSONField(default=dict, blank=True)
    # data fields every event of this action must carry
    required = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["action"]

    def __str__(self) -> str:
        return self.action


class Event(models.Model):
    """The durable event log. Append-only; `id` order is the order events were applied.

    On Postgres the table is partitioned by month of `received_at` (docs/events.md "The log
    over years"): its real primary key is (id, received_at) and `event_id` is unique through
    EventKey, written by the same statement. SQLite keeps one plain table.
    """

    event_id = models.CharField(max_length=200, help_text="The sender's id.")
    # event_user_seq (user, id) covers the foreign key's lookups.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    action = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["user", "id"], name="event_user_seq"),
            models.Index(fields=["action", "occurred_at"], name="event_action_time"),
            models.Index(fields=["received_at"], name="event_received"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.action} user={self.user_id}"


class EventKey(models.Model):
    """The dedupe index of the log: one row per accepted event id, kept outside the monthly
    partitions (a partitioned table's unique index must contain the partition key, so the
    partitions cannot enforce a unique id across months). Rows older than the retention go
    with their partition: the dedupe window is the retention."""

    event_id = models.CharField(max_length=200, primary_key=True)
    received_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.event_id


class MissionSnapshot(models.Model):
    """A mission's fold state as of the end of the newest retired log partition (`as_of`):
    replay starts here and folds only the events still in the log."""

    mission = models.OneToOneField(
        ActiveMission, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    as_of = models.DateTimeField()
    state = models.CharField(max_length=16, choices=MissionState.choices)
    completed_at = models.DateTimeField(null=True, blank=True)
    # {requirement_key: {"current": "12.5", "done_at": iso|None, "reached_at": iso|None,
    #  "values": [...]}}
    progress = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"mission {self.mission_id} as of {self.as_of:%Y-%m-%d}"


class RetiredPartition(models.Model):
    """One month of the event log that left (detached, then dropped unless kept): its range,
    how many events it held and how many mission snapshots it updated. The newest `range_end`
    is the log's horizon: every event received before it is gone."""

    name = models.CharField(max_length=63, unique=True)
    range_start = models.DateTimeField()
    range_end = models.DateTimeField()
    retired_at = models.DateTimeField()
    events = models.BigIntegerField(default=0)
    snapshots = models.IntegerField(default=0)
    dropped = models.BooleanField(default=True)

    class Meta:
        ordering = ["-range_end"]

    def __str__(self) -> str:
        return f"{self.name} [{self.range_start:%Y-%m-%d}, {self.range_end:%Y-%m-%d})"


class ProgressValue(models.Model):
    """A distinct value seen by a unique requirement, or a day/week of a streak requirement.

    One row per value, so the set grows by inserts and never rewrites a JSON blob.
    """

    progress = models.ForeignKey(MissionProgress, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["progress", "value"], name="one_value_per_progress"),
        ]

    def __str__(self) -> str:
        return self.value


class ServiceKey(models.Model):
    """A key a service sends as `Authorization: Bearer <key>`; only its SHA-256 is stored."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LifecycleRun(models.Model):
    """One run of a scheduled lifecycle job (a rollover, a special window opening).

    The row with `finished_at` set is the job's "done" mark: a second, late or concurrent run
    of the same key finds it and changes nothing. Operators read these rows in the admin.
    """

    key = models.CharField(max_length=200, unique=True, help_text="e.g. rollover:daily:2026-11-30")
    job = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.key} ({'done' if self.finished_at else 'running'})"
