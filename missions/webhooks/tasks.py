"""Celery tasks of the webhooks layer: thin, ids in, one service call."""

from __future__ import annotations

from celery import shared_task

from .services import webhook_deliveries_due, webhook_delivery_attempt


@shared_task(name="webhooks.deliver", ignore_result=True)
def webhook_deliver(delivery_id: int) -> None:
    webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(name="webhooks.deliver_due", ignore_result=True)
def webhooks_deliver_due() -> int:
    return webhook_deliveries_due()
