"""Reads for the player layer (API, hub, live pushes) beyond missions/selectors.py."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Prefetch, QuerySet

from ..models import ActiveMission, MissionProgress


def missions_by_ids(mission_ids: Sequence[int]) -> QuerySet[ActiveMission]:
    """These missions with template and progress loaded: two queries whatever their number."""
    return (
        ActiveMission.objects.filter(pk__in=list(mission_ids))
        .select_related("template")
        .prefetch_related(Prefetch("progress", queryset=MissionProgress.objects.order_by("id")))
        .order_by("pk")
    )
