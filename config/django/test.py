"""Tests run against real Postgres and Redis (127.0.0.1 defaults, overridable by env)."""

import os

# Set before base is imported, so database.py and redis.py see them.
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/missions")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")

from .base import *  # noqa: E402,F403

# Tests call tasks inline; the broker path is exercised by its own tests.
CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the finders: tests do not run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Throttles high enough for suites that send many requests; tests/serving/test_throttles.py
# lowers each one to prove it triggers.
THROTTLE_RATES = {"auth_token": "10000/minute", "claim": "10000/minute", "ingest": "100000/minute"}
