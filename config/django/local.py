"""`make run`: embedded defaults unless DATABASE_URL / REDIS_URL are set."""

from config.env import env_bool

from .base import *  # noqa: F403

DEBUG = env_bool("DJANGO_DEBUG", True)
