from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from hypothesis import Phase, settings

# `make mutate` (tools/mutate.py) sets HYPOTHESIS_PROFILE=mutate: a mutant only needs the
# property to fail, not the smallest example, so there is no shrinking, and the examples are
# the same for every mutant (derandomize), so a verdict does not depend on luck.
settings.register_profile(
    "mutate",
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    derandomize=True,
    database=None,
)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])

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
def django_db_setup(
    django_db_setup: Any, django_db_blocker: Any, request: pytest.FixtureRequest
) -> Iterator[None]:
    """The test database starts with what the migrations seed (the action catalog), as a
    fresh one has it.

    A reused one (--reuse-db: `make mutate` runs one session per mutant) may hold what an
    earlier session left: flushed by its transactional tests (no catalog), or, if that
    session was stopped (a mutant's time limit), rows a transactional test had committed.
    A marker file exists while a session runs; found at the start, the last session did not
    end, so the database is emptied (flush re-creates content types and permissions). Then
    the catalog is put back, and the snapshot that serialized_rollback restores after each
    flush, taken before this fixture ran, is taken again."""
    from django.core.management import call_command
    from django.db import connection, connections

    from missions.catalog import DEFAULT_ACTIONS
    from missions.models import ActionType

    running = Path(tempfile.gettempdir()) / f"pytest-running-{connection.settings_dict['NAME']}"
    with django_db_blocker.unblock():
        if request.config.getvalue("reuse_db") and running.exists():
            call_command("flush", interactive=False, verbosity=0)
        running.touch()
        created = [
            ActionType.objects.get_or_create(action=action, defaults={"fields": fields})[1]
            for action, fields in DEFAULT_ACTIONS.items()
        ]
        if any(created):
            for alias in connections:
                conn = connections[alias]
                if getattr(conn, "_test_serialized_contents", None) is not None:
                    conn._test_serialized_contents = conn.creation.serialize_db_to_string()  # type: ignore[attr-defined]
    yield
    running.unlink(missing_ok=True)


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
