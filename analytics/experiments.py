"""A/B experiments: variants are templates with weights; each player is bucketed into one
variant by a hash of (experiment, player), so the bucket never changes and needs no storage.
The other variants are withheld from them through the assignment service's exclusion source
(registered in AppConfig.ready)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

Z_95 = 1.959963984540054  # the two-sided 95 % normal quantile


def bucket(experiment_key: str, user_id: int, weights: Sequence[int]) -> int:
    """Index of the variant `user_id` falls in: deterministic, proportional to `weights`."""
    total = sum(weights)
    if total <= 0:
        raise ValueError("variant weights must add up to more than 0")
    digest = hashlib.sha256(f"{experiment_key}:{user_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % total
    for index, weight in enumerate(weights):
        if point < weight:
            return index
        point -= weight
    return len(weights) - 1  # unreachable: point < total


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion (95 % by default); (0, 0) without trials."""
    if trials <= 0:
        return (0.0, 0.0)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def two_proportion_p_value(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test; None when undefined."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return None if x1 / n1 == x2 / n2 else 0.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))


@dataclass(frozen=True)
class VariantResult:
    variant_id: int
    template_key: str
    weight: int
    assigned: int
    completed: int
    interval: tuple[float, float]
    p_value: float | None  # against the first variant (the control); None for the control
    xp_cost: int
    dgt_cost: Decimal

    @property
    def rate(self) -> float:
        return self.completed / self.assigned if self.assigned else 0.0


def _running() -> list[tuple[str, list[tuple[int, int]]]]:
    """(experiment key, [(template id, weight), ...]) of the running experiments."""
    from .models import Experiment

    out = []
    for experiment in Experiment.objects.filter(ended_at__isnull=True).prefetch_related("variants"):
        variants = [(v.template_id, v.weight) for v in experiment.variants.all()]
        if len(variants) >= 2:
            out.append((experiment.key, variants))
    return out


def excluded_templates(user_ids: Sequence[int]) -> list[tuple[int, int]]:
    """The assignment service's exclusion source: every variant a player is not bucketed
    into, for each running experiment (one query, whatever the number of players)."""
    pairs = []
    for key, variants in _running():
        weights = [w for _, w in variants]
        for user_id in user_ids:
            chosen = bucket(key, user_id, weights)
            pairs += [(user_id, t) for i, (t, _) in enumerate(variants) if i != chosen]
    return pairs


def experiment_results(experiment_id: int) -> list[VariantResult]:
    """Per variant, for missions assigned while the experiment ran: assigned, completed,
    completion rate with its Wilson 95 % interval, the p-value against the first variant,
    and the reward cost (XP and DGT paid for those missions)."""
    from django.db.models import Count, Q, Sum

    from missions.models import ActiveMission
    from rewards.models import LedgerEntry

    from .models import Experiment

    experiment = Experiment.objects.get(pk=experiment_id)
    window = Q(assigned_at__gte=experiment.started_at)
    if experiment.ended_at:
        window &= Q(assigned_at__lt=experiment.ended_at)
    variants = list(experiment.variants.select_related("template"))
    ids = [v.template_id for v in variants]
    counts = {
        row["template_id"]: row
        for row in ActiveMission.objects.filter(window, template_id__in=ids)
        .values("template_id")
        .annotate(n=Count("id"), done=Count("id", filter=Q(completed_at__isnull=False)))
        .order_by()
    }
    costs: dict[int, dict[str, Any]] = {
        row["mission__template_id"]: dict(row)
        for row in LedgerEntry.objects.filter(
            mission__template_id__in=ids,
            mission__assigned_at__gte=experiment.started_at,
            **({"mission__assigned_at__lt": experiment.ended_at} if experiment.ended_at else {}),
        )
        .values("mission__template_id")
        .annotate(xp=Sum("xp"), dgt=Sum("dgt"))
        .order_by()
    }
    results: list[VariantResult] = []
    control: tuple[int, int] | None = None
    for variant in variants:
        row = counts.get(variant.template_id, {"n": 0, "done": 0})
        n, done = int(row["n"]), int(row["done"])
        cost: dict[str, Any] = costs.get(variant.template_id) or {"xp": 0, "dgt": Decimal(0)}
        results.append(
            VariantResult(
                variant_id=variant.pk,
                template_key=variant.template.key,
                weight=variant.weight,
                assigned=n,
                completed=done,
                interval=wilson_interval(done, n),
                p_value=None if control is None else two_proportion_p_value(done, n, *control),
                xp_cost=int(cost["xp"] or 0),
                dgt_cost=Decimal(cost["dgt"] or 0),
            )
        )
        if control is None:
            control = (done, n)
    return results


def experiment_end(*, experiment_id: int, winner_id: int, now: datetime) -> list[int]:
    """End the experiment: the winner's template stays (and is made) active, the other
    variants' templates are deactivated. Returns the deactivated template ids."""
    from django.db import transaction

    from missions.models import MissionTemplate
    from missions.services.templates import templates_changed

    from .models import Experiment, Variant

    with transaction.atomic():
        experiment = Experiment.objects.select_for_update().get(pk=experiment_id)
        winner = Variant.objects.get(pk=winner_id, experiment=experiment)
        losers = [v.template_id for v in experiment.variants.all() if v.pk != winner.pk]
        MissionTemplate.objects.filter(pk=winner.template_id).update(is_active=True)
        MissionTemplate.objects.filter(pk__in=losers).update(is_active=False)
        experiment.ended_at, experiment.winner = now, winner
        experiment.save(update_fields=["ended_at", "winner"])
        transaction.on_commit(templates_changed)
    return losers
