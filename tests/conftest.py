from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

# A cache whose Redis never answers (nothing listens on port 1): for "the cache is down"
# tests, with django.test.override_settings(CACHES=DEAD_CACHE).
DEAD_CACHE = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
}

# The channel layer on the same dead Redis: with DEAD_CACHE, Redis is down for everything the
# web process uses it for (Celery runs tasks inline in tests, so its broker is not involved).
DEAD_CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"], "prefix": "missions:ws"},
    }
}


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    """Each test starts with an empty Redis cache (the test database of Redis, db 1 by default)."""
    cache.clear()
    yield
    cache.clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every transactional test restores the migrated data (serialized_rollback): a flush
    without it re-creates content types through post_migrate, and the next serialized test
    then fails on duplicates, depending on the order the tests happen to run in."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if (
            marker
            and marker.kwargs.get("transaction")
            and not marker.kwargs.get("serialized_rollback")
        ):
            raise pytest.UsageError(
                f"{item.nodeid}: use @pytest.mark.django_db(transaction=True, "
                "serialized_rollback=True)"
            )
