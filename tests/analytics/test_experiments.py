"""A/B experiments: stable, balanced bucketing; the interval and p-value against reference
values; only the bucket's variant is assigned; results per variant; ending with a winner."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from analytics.experiments import (
    bucket,
    experiment_results,
    two_proportion_p_value,
    wilson_interval,
)
from analytics.models import Experiment, Variant
from missions.models import ActiveMission, MissionTemplate
from missions.services import missions_assign
from tests.factories import TemplateFactory, UserFactory

PLAYERS = range(1, 10_001)


def test_bucketing_is_stable_per_player() -> None:
    first = [bucket("exp-a", user_id, [1, 1]) for user_id in PLAYERS]
    again = [bucket("exp-a", user_id, [1, 1]) for user_id in PLAYERS]
    assert first == again
    # another experiment shuffles players differently
    other = [bucket("exp-b", user_id, [1, 1]) for user_id in PLAYERS]
    assert sum(a != b for a, b in zip(first, other, strict=True)) > 4000


@pytest.mark.parametrize(
    ("weights", "tolerance"), [([1, 1], 0.02), ([1, 3], 0.02), ([50, 30, 20], 0.02)]
)
def test_bucketing_is_balanced_by_weight_over_10000_players(
    weights: list[int], tolerance: float
) -> None:
    counts = Counter(bucket("balance", user_id, weights) for user_id in PLAYERS)
    for index, weight in enumerate(weights):
        share = counts[index] / len(PLAYERS)
        assert abs(share - weight / sum(weights)) <= tolerance, (index, share)


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Wilson score intervals, 95 % (Newcombe 1998, table I; also statsmodels "wilson")
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (81, 263, 0.2553, 0.3662),
        (10, 10, 0.7225, 1.0),
    ],
)
def test_the_wilson_interval_matches_reference_values(
    successes: int, trials: int, low: float, high: float
) -> None:
    got = wilson_interval(successes, trials)
    assert got == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "p"),
    [
        # pooled two-proportion z-test, two-sided: 2 * (1 - Phi(|z|)), computed by hand
        (45, 100, 60, 100, 0.033672),  # z = -2.1240
        (50, 100, 50, 100, 1.0),
        (120, 1000, 150, 1000, 0.049640),  # z = -1.9630
    ],
)
def test_the_two_proportion_p_value_matches_reference_values(
    x1: int, n1: int, x2: int, n2: int, p: float
) -> None:
    assert two_proportion_p_value(x1, n1, x2, n2) == pytest.approx(p, abs=5e-6)
    assert two_proportion_p_value(0, 0, 1, 2) is None


@pytest.fixture
def experiment(db: None) -> Experiment:
    a = TemplateFactory(key="variant_a", rewards={"xp": 10, "dgt": "1"})
    b = TemplateFactory(key="variant_b", rewards={"xp": 20, "dgt": "2"})
    experiment = Experiment.objects.create(
        key="ab1", name="A vs B", started_at=timezone.now() - timedelta(hours=1)
    )
    Variant.objects.create(experiment=experiment, template=a, weight=1)
    Variant.objects.create(experiment=experiment, template=b, weight=1)
    return experiment


@pytest.mark.django_db
def test_each_player_gets_only_their_buckets_variant(experiment: Experiment) -> None:
    users = [UserFactory() for _ in range(40)]
    missions_assign(user_ids=[u.pk for u in users], now=timezone.now())
    keys = ["variant_a", "variant_b"]
    for user in users:
        got = set(ActiveMission.objects.filter(user=user).values_list("template__key", flat=True))
        assert got == {keys[bucket("ab1", user.pk, [1, 1])]}


@pytest.mark.django_db
def test_results_per_variant_and_ending_with_a_winner(
    experiment: Experiment, admin_client: Any
) -> None:
    users = [UserFactory() for _ in range(30)]
    missions = missions_assign(user_ids=[u.pk for u in users], now=timezone.now())
    by_key: dict[str, list[ActiveMission]] = {"variant_a": [], "variant_b": []}
    for mission in missions:
        by_key[mission.template.key].append(mission)
    done = by_key["variant_b"][:3] + by_key["variant_a"][:1]
    ActiveMission.objects.filter(pk__in=[m.pk for m in done]).update(
        state="completed", completed_at=timezone.now()
    )
    results = {r.template_key: r for r in experiment_results(experiment.pk)}
    a, b = results["variant_a"], results["variant_b"]
    assert (a.assigned, a.completed) == (len(by_key["variant_a"]), 1)
    assert (b.assigned, b.completed) == (len(by_key["variant_b"]), 3)
    assert a.p_value is None
    assert b.p_value == pytest.approx(two_proportion_p_value(3, b.assigned, 1, a.assigned))
    assert b.interval == wilson_interval(3, b.assigned)

    page = admin_client.get(f"/admin/analytics/experiment/{experiment.pk}/change/")
    assert 'data-variant="variant_b"' in page.content.decode()
    chart = page.context["experiment_chart"]  # what the page's chart draws (json_script)
    assert chart["labels"] == [r.template_key for r in experiment_results(experiment.pk)]
    b_index = chart["labels"].index("variant_b")
    assert chart["rates"][b_index] == round(3 * 100 / b.assigned, 2)
    low, high = wilson_interval(3, b.assigned)
    assert chart["intervals"][b_index] == [round(low * 100, 2), round(high * 100, 2)]
    assert 'id="experiment-data"' in page.content.decode()
    winner = Variant.objects.get(experiment=experiment, template__key="variant_b")
    response = admin_client.post(
        "/admin/analytics/experiment/",
        {
            "action": "end_with_winner",
            ACTION_CHECKBOX_NAME: [experiment.pk],
            "apply": "1",
            "winner": winner.pk,
        },
    )
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.ended_at is not None and experiment.winner_id == winner.pk
    assert MissionTemplate.objects.get(key="variant_b").is_active
    assert not MissionTemplate.objects.get(key="variant_a").is_active
