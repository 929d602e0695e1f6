from config.env import ImproperEnv, env

from .base import *  # noqa: F403

DEBUG = False
if not env("DJANGO_SECRET_KEY"):
    raise ImproperEnv("DJANGO_SECRET_KEY must be set in production")
if not env("DATABASE_URL") or not env("REDIS_URL"):
    raise ImproperEnv("production needs DATABASE_URL (Postgres) and REDIS_URL (Redis)")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
