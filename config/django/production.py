from config.env import ImproperEnv, env, env_bool, env_int

from .base import *  # noqa: F403

DEBUG = False
if not env("DJANGO_SECRET_KEY"):
    raise ImproperEnv("DJANGO_SECRET_KEY must be set in production")
if not env("DATABASE_URL") or not env("REDIS_URL"):
    raise ImproperEnv("production needs DATABASE_URL (Postgres) and REDIS_URL (Redis)")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# HTTPS only (`manage.py check --deploy` is clean with these): plain HTTP is redirected,
# except the probes, and browsers are told to use HTTPS for a year (HSTS).
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (only then: the header must
# come from the proxy, never from clients).
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
