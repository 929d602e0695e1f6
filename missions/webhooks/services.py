"""Writes of the webhooks layer: emit an event (outbox rows in the caller's transaction),
attempt one delivery (HTTP after a committed lease), sweep due deliveries, redeliver.

Delivery is at least once: a receiver that answered 2xx but whose answer was lost is called
again with the same event id, so receivers dedupe on `id` (docs/webhooks.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Missions-Signature"
RESPONSE_KEPT = 2000


def webhook_emit(
    *, type: str, payload: dict[str, Any], now: datetime | None = None
) -> WebhookEvent | None:
    """Record `type` with `payload` for every active endpoint that wants it, inside the
    caller's transaction; the first attempt is queued after the commit. None when no
    endpoint wants it (nothing is stored)."""
    events = webhook_emit_many(type=type, payloads=[payload], now=now)
    return events[0] if events else None


def webhook_emit_many(
    *, type: str, payloads: Sequence[dict[str, Any]], now: datetime | None = None
) -> list[WebhookEvent]:
    """webhook_emit for a batch (a batch's completions): one query for the endpoints, one
    insert for the events and one for their deliveries, whatever the batch size."""
    if not payloads:
        return []
    endpoints = [e for e in WebhookEndpoint.objects.filter(is_active=True) if e.wants(type)]
    if not endpoints:
        return []
    now = now or timezone.now()
    with transaction.atomic():
        events = WebhookEvent.objects.bulk_create(
            [
                # plain JSON from here on (dates, decimals as the encoder writes them)
                WebhookEvent(
                    type=type,
                    payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
                    created_at=now,
                )
                for payload in payloads
            ]
        )
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now)
                for event in events
                for endpoint in endpoints
            ]
        )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return events


def _enqueue(delivery_ids: Iterable[int]) -> None:
    from .tasks import webhook_deliver

    for delivery_id in delivery_ids:
        try:
            webhook_deliver.delay(delivery_id)
        except Exception:  # broker down: the due sweep delivers it later
            logger.warning("could not queue webhook delivery %s; the sweep will", delivery_id)


def webhook_body(event: WebhookEvent) -> bytes:
    """The exact bytes we sign and send; the same for every attempt."""
    document = {
        "id": str(event.id),
        "type": event.type,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": event.payload,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`, as receivers verify it."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def backoff(attempts: int) -> timedelta:
    """Delay after the `attempts`-th failed attempt: base × 2^(attempts-1), capped."""
    base = settings.WEBHOOKS_BACKOFF_BASE_SECONDS
    cap = settings.WEBHOOKS_BACKOFF_CAP_SECONDS
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _lease(delivery_id: int, now: datetime, force: bool) -> WebhookDelivery | None:
    """Take the delivery for one attempt: due, pending, endpoint active. The attempt count
    and the next time are committed before the request, so two workers never send the same
    attempt and a crash mid-request retries later instead of never."""
    with transaction.atomic():
        query = WebhookDelivery.objects.select_for_update(skip_locked=True).filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, endpoint__is_active=True
        )
        if not force:
            query = query.filter(next_attempt_at__lte=now)
        delivery = query.select_related("event", "endpoint").first()
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
    return delivery


def webhook_delivery_attempt(
    *, delivery_id: int, now: datetime | None = None, force: bool = False
) -> WebhookDelivery | None:
    """One attempt at one delivery; None when it is not due (or taken, done, disabled)."""
    now = now or timezone.now()
    delivery = _lease(delivery_id, now, force)
    if delivery is None:
        return None
    body = webhook_body(delivery.event)
    request = urllib.request.Request(
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "missions-webhooks/1",
            "X-Missions-Event": delivery.event.type,
            "X-Missions-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: webhook_signature(
                secret=delivery.endpoint.secret, timestamp=int(now.timestamp()), body=body
            ),
        },
    )
    status_code: int | None = None
    response_text = error = ""
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOKS_TIMEOUT_SECONDS) as resp:
            status_code = resp.status
            response_text = resp.read(RESPONSE_KEPT).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status_code = exc.code
        response_text = exc.read(RESPONSE_KEPT).decode("utf-8", "replace")
        error = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:RESPONSE_KEPT]

    delivery.last_status_code = status_code
    delivery.last_response = response_text
    delivery.last_error = error
    fields = ["last_status_code", "last_response", "last_error"]
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = timezone.now()
        fields += ["status", "delivered_at"]
    elif delivery.attempts >= settings.WEBHOOKS_MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        fields.append("status")
        logger.warning(
            "webhook delivery %s gave up after %s attempts", delivery.pk, delivery.attempts
        )
    # The outcome is written only if nobody redelivered or finished it meanwhile.
    WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
        **{name: getattr(delivery, name) for name in fields}
    )
    return delivery


def webhook_deliveries_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Attempt every pending delivery whose time has come (the beat sweep); returns attempts."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__is_active=True
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in due if webhook_delivery_attempt(delivery_id=pk, now=now) is not None)


def webhook_redeliver(*, delivery_ids: Iterable[int], now: datetime | None = None) -> int:
    """Admin "redeliver": pending again, due now, queued after the commit."""
    now = now or timezone.now()
    ids = list(delivery_ids)
    with transaction.atomic():
        count = WebhookDelivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.PENDING, next_attempt_at=now, delivered_at=None
        )
        transaction.on_commit(lambda: _enqueue(ids))
    return count
