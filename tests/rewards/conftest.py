from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rewards.selectors import ledger_differences


@pytest.fixture
def corrupt_ledger_allowed() -> None:
    """Requested by tests that break the ledger on purpose to see check_ledger catch it."""


@pytest.fixture(autouse=True)
def _ledger_stays_balanced(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every database test here, check_ledger's checks pass on what the test left.

    The database fixture is requested from inside this one, so this teardown runs before
    the test's rollback or flush and sees the test's whole activity.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None or "corrupt_ledger_allowed" in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    yield
    assert ledger_differences() == []


@pytest.fixture(autouse=True)
def _one_rule_at_a_time(request: pytest.FixtureRequest, settings: Any) -> None:
    """Most reward tests build one lone mission and expect its base rewards: with SPEC.md's
    defaults a lone completed mission is perfect (REWARDS_PERFECT_MIN_MISSIONS=1), so here
    the perfect bonus needs two missions unless a test asks for `spec_defaults`. The bonus
    tests marked so (and test_spec_defaults_*) check the real defaults."""
    if request.node.get_closest_marker("spec_defaults"):
        return
    settings.REWARDS_PERFECT_MIN_MISSIONS = 2
    settings.REWARDS_SPEED_MIN_SAMPLE = 5
