"""Endpoints the platform configures, the events we emit, and one delivery per (event, endpoint).

An event and its deliveries are written in the transaction that caused them (an outbox):
a rolled-back grant leaves no delivery, and a committed one is delivered even if the
process dies before it could send (the due sweep picks it up).
"""

from __future__ import annotations

import uuid

from django.db import models


class WebhookEventType(models.TextChoices):
    MISSION_COMPLETED = "mission.completed", "mission.completed"
    REWARD_GRANTED = "reward.granted", "reward.granted"
    STREAK_EXTENDED = "streak.extended", "streak.extended"
    STREAK_LOST = "streak.lost", "streak.lost"
    LEADERBOARD_FINALISED = "leaderboard.finalised", "leaderboard.finalised"


class WebhookEndpoint(models.Model):
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    # Kept readable: we must sign with it. Shown once in the admin, masked in lists.
    secret = models.CharField(max_length=200)
    # The event types this endpoint receives; empty = none.
    events = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"

    def wants(self, event_type: str) -> bool:
        return self.is_active and event_type in (self.events or [])


class WebhookEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["type", "created_at"], name="webhook_event_type_time")]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "pending"
    DELIVERED = "delivered", "delivered"
    FAILED = "failed", "failed (gave up)"


class WebhookDelivery(models.Model):
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # When the next attempt may start; an attempt in flight pushes it forward first (a lease),
    # so a worker that dies mid-request is retried after the back-off, not lost.
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_response = models.TextField(blank=True, default="")
    last_error = models.TextField(blank=True, default="")

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-next_attempt_at"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_endpoint")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} → {self.endpoint.name}: {self.status}"
