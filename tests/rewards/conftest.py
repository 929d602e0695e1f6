from __future__ import annotations

from collections.abc import Iterator

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
