"""Service keys for the ingestion endpoint. Only a SHA-256 of each key is stored: the keys are
long random strings, so a fast hash is enough and lookups stay one indexed query."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..errors import Conflict, NotFound, ValidationFailed
from ..models import ServiceKey

KEY_PREFIX = "msk_"


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def service_key_create(*, name: str, raw_key: str | None = None) -> tuple[ServiceKey, str]:
    """Create a key; returns it and the raw key, which is shown once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed("bad key name", errors={"name": ["is required, 1–100 characters"]})
    if ServiceKey.objects.filter(name=name).exists():
        raise Conflict(f"a service key named {name!r} exists", errors={"name": ["is taken"]})
    raw = raw_key or KEY_PREFIX + secrets.token_urlsafe(32)
    key = ServiceKey.objects.create(name=name, prefix=raw[:12], key_hash=key_hash(raw))
    return key, raw


def service_key_revoke(*, key_id: int) -> ServiceKey:
    with transaction.atomic():
        key = ServiceKey.objects.select_for_update().filter(pk=key_id).first()
        if key is None:
            raise NotFound(f"no service key {key_id}")
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
    return key


def service_key_authenticate(*, raw_key: str) -> ServiceKey | None:
    """The active key for this raw key, or None (unknown or revoked)."""
    key = ServiceKey.objects.filter(key_hash=key_hash(raw_key), revoked_at__isnull=True).first()
    if key is not None:
        now = timezone.now()
        # Touch at most once a minute: a busy sender must not turn auth into a write per call.
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            ServiceKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
