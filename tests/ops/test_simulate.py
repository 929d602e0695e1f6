"""A small `make simulate`: a few players over seven days that cross an ISO week and a month,
with every mission type and period, the beat tasks at each boundary, claims and missed
claims — and zero invariant violations at the end (replay, streaks, ledger, claims paid
once, competitive tiers, and the metrics counters against the ledger)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ops.simulate import run_simulation

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_small_simulation_ends_with_no_invariant_violation() -> None:
    report = run_simulation(
        players=10,
        days=7,
        start=datetime(2026, 11, 27, tzinfo=UTC),  # a Friday: crosses Mon 30 Nov and 1 Dec
        seed=3,
        active_share=0.8,
        claim_share=0.5,
        max_events=8,
        batch_size=10,  # several batches a day, with the sweeps between them
    )
    assert report.violations == []
    assert report.accepted == report.events > 0
    states = report.figures["missions"]
    assert states.get("claimed", 0) > 0
    assert states.get("expired", 0) > 0 and states.get("failed", 0) > 0
    sources = report.figures["claims_by_source"]
    # Players claimed some, the auto-grant paid what they forgot, a competition paid its tiers.
    assert sources.get("claim", 0) > 0 and sources.get("auto_grant", 0) > 0
    assert sources.get("competitive", 0) > 0
    assert report.figures["competitive_periods"] >= 1
