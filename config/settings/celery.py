from config.env import env, env_bool, env_int

CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = not env_bool("CELERY_KEEP_RESULTS", False)

# One queue name for beat and the workers; tests give theirs a private one.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "celery")
# /healthz: the beat heartbeat older than this is "stale" and the status "degraded".
OPS_BEAT_STALE_SECONDS = env_int("OPS_BEAT_STALE_SECONDS", 300)
