"""mission_redis_breaker_total counts what the Redis circuit breaker did, exactly: calls that
reached Redis and failed, calls it refused without touching the network, and each opening,
failed trial and closing. A private redis-server, killed and restarted; no clock involved
(the reset timeout is an hour, so no trial happens, or zero, so every call is a trial)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django_redis.exceptions import ConnectionInterrupted
from prometheus_client import REGISTRY

from config.redis_guard import GuardedRedisCache, breaker, cache_call_or_raise

from .procs import RedisServer

EVENTS = ("failed", "refused", "opened", "reopened", "closed")


def counts() -> dict[str, int]:
    return {
        event: int(
            REGISTRY.get_sample_value(
                "mission_redis_breaker_total", {"use": "cache", "event": event}
            )
            or 0
        )
        for event in EVENTS
    }


def since(before: dict[str, int]) -> dict[str, int]:
    now = counts()
    return {event: now[event] - before[event] for event in EVENTS if now[event] != before[event]}


@pytest.fixture
def guarded_cache(redis_server: RedisServer) -> Iterator[GuardedRedisCache]:
    cache = GuardedRedisCache(
        redis_server.url,
        {
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                "IGNORE_EXCEPTIONS": True,
            }
        },
    )
    yield cache
    cache.close()


def tune(redis_server: RedisServer, *, fail_max: int, reset_seconds: float) -> None:
    """The cache breaker of this Redis, closed, with these settings."""
    cb = breaker("cache", redis_server.url)
    cb.fail_max, cb.reset_timeout = fail_max, reset_seconds
    cb.close()


def failing_gets(cache: Any, calls: int) -> None:
    for _ in range(calls):
        with pytest.raises(ConnectionInterrupted):
            cache_call_or_raise("get", "key", cache=cache)


def test_the_breaker_counts_the_calls_that_reached_redis_and_the_ones_it_refused(
    redis_server: RedisServer, guarded_cache: GuardedRedisCache
) -> None:
    tune(redis_server, fail_max=3, reset_seconds=3600)  # no trial during this test
    before = counts()
    assert guarded_cache.get("key") is None  # Redis answers: nothing counted
    assert since(before) == {}

    redis_server.kill()
    failing_gets(guarded_cache, 7)
    # Three calls reached the dead Redis and opened the breaker; four failed at once.
    assert since(before) == {"failed": 3, "opened": 1, "refused": 4}
    assert guarded_cache.get("key") is None  # the guarded cache reads an outage as a miss
    assert since(before) == {"failed": 3, "opened": 1, "refused": 5}


def test_each_failed_trial_and_the_closing_are_counted(
    redis_server: RedisServer, guarded_cache: GuardedRedisCache
) -> None:
    tune(redis_server, fail_max=2, reset_seconds=0)  # every call after the opening is a trial
    before = counts()
    redis_server.kill()
    failing_gets(guarded_cache, 5)
    assert since(before) == {"failed": 5, "opened": 1, "reopened": 3}

    redis_server.start()
    assert guarded_cache.set("key", 1) is True  # the trial finds Redis back
    assert guarded_cache.get("key") == 1
    assert since(before) == {"failed": 5, "opened": 1, "reopened": 3, "closed": 1}
