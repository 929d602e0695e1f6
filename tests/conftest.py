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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    """The test database starts with what the migrations seed (the action catalog), as a
    fresh one has it. With --reuse-db (make mutate runs one session per mutant) it may come
    from a session whose transactional tests flushed it."""
    from missions.catalog import DEFAULT_ACTIONS
    from missions.models import ActionType

    with django_db_blocker.unblock():
        for action, fields in DEFAULT_ACTIONS.items():
            ActionType.objects.get_or_create(action=action, defaults={"fields": fields})


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    """Each test starts with an empty Redis cache (the test database of Redis, db 1 by default)."""
    cache.clear()
    yield
    cache.clear()
