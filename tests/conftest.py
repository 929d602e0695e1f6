from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    """Each test starts with an empty Redis cache (the test database of Redis, db 1 by default)."""
    cache.clear()
    yield
    cache.clear()
