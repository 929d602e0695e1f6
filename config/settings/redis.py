"""REDIS_URL switches cache, channel layer and Celery broker from in-process defaults to Redis."""

from config.env import env, env_bool

REDIS_URL = env("REDIS_URL")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "missions",
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "missions:ws"},
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
