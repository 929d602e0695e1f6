"""REDIS_URL switches cache, channel layer and Celery broker from in-process defaults to Redis.

Redis is a shortcut here, never the truth: every Redis call has a short socket timeout and
goes through a circuit breaker (config/redis_guard.py), so a dead or hung Redis costs a
request at most one timeout, then nothing while the breaker is open (docs/reliability.md).
"""

from config.env import env, env_bool, env_float, env_int

REDIS_URL = env("REDIS_URL")

# Seconds to open a connection and to wait for one answer; Redis answers in well under 1 ms.
REDIS_SOCKET_CONNECT_TIMEOUT = env_float("REDIS_SOCKET_CONNECT_TIMEOUT", 0.5)
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 0.5)
# After this many failed calls in a row the breaker opens: calls fail at once (cache miss,
# presence unknown, no live push) and one call is let through every REDIS_BREAKER_RESET_SECONDS.
REDIS_BREAKER_FAILURES = env_int("REDIS_BREAKER_FAILURES", 3)
REDIS_BREAKER_RESET_SECONDS = env_float("REDIS_BREAKER_RESET_SECONDS", 5.0)

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.redis_guard.GuardedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "missions",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_CONNECT_TIMEOUT,
                "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
                # A failed call reads as a miss (get → None, add → False) instead of raising;
                # the breaker logs the outage once instead of django-redis once per call.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # No socket read timeout here: a consumer's receive blocks on Redis for
                # seconds by design. group_add / group_send get theirs from redis_guard.
                "hosts": [
                    {"address": REDIS_URL, "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT}
                ],
                "prefix": "missions:ws",
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://"
    # Without a broker, tasks run inline in the calling process.
    CELERY_TASK_ALWAYS_EAGER = True

# Whether /healthz reports "degraded" while beat's heartbeat is missing or stale: expected
# wherever there is a broker (Redis); `make run` without Redis has no beat by design.
OPS_EXPECT_BEAT = env_bool("OPS_EXPECT_BEAT", bool(REDIS_URL))
