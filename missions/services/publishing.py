"""Publishing a template now: give it to every eligible player for its current period, outside
the weighted draw ("assign now"), set-based per chunk with the assignment service's own
eligibility and insert."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from ..models import ActiveMission, MissionTemplate, PeriodType, PlayerProfile
from ..signals import missions_assigned
from .assignment import (
    NewMission,
    _period_of,
    _player_contexts,
    _shared_period,
    is_eligible,
    missions_insert,
)


def template_assign_now(
    *,
    template: MissionTemplate,
    now: datetime,
    user_ids: Iterable[int] | None = None,
    chunk_size: int = 2000,
) -> int:
    """Assign `template` for its current period to every active, eligible player who does not
    have it yet; returns how many missions were created (0 for an inactive template or a
    special one outside its window). Running it again creates nothing."""
    if not template.is_active:
        return 0
    if template.period_type == PeriodType.SPECIAL and not (
        template.starts_at and template.ends_at and template.starts_at <= now < template.ends_at
    ):
        return 0
    if user_ids is None:
        user_ids = (
            get_user_model()
            .objects.filter(is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    total = 0
    chunk: list[int] = []
    shared = _shared_period(template, now)  # the same for every player, when shared

    def flush() -> None:
        nonlocal total
        PlayerProfile.objects.bulk_create(
            [PlayerProfile(user_id=u) for u in chunk], ignore_conflicts=True
        )
        contexts = _player_contexts(chunk, [template], now)
        new = []
        for user_id in chunk:
            if is_eligible(template, contexts[user_id]):
                # Each player's own current period (their local day, week or month).
                period = _period_of(template, contexts[user_id], shared)
                new.append(NewMission(user_id, template, period.start, period.end))
        if new:
            with transaction.atomic():
                created = missions_insert(rows=new, now=now)
                transaction.on_commit(
                    lambda: missions_assigned.send(sender=ActiveMission, missions=created)
                )
            total += len(created)
        chunk.clear()

    for user_id in user_ids:
        chunk.append(user_id)
        if len(chunk) >= chunk_size:
            flush()
    if chunk:
        flush()
    return total
