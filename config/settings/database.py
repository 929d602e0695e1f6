"""DATABASE_URL switches from the embedded SQLite default to Postgres.

On Postgres every process keeps one psycopg connection pool (Django's `OPTIONS["pool"]`),
so a server holds at most DATABASE_POOL_MAX_SIZE connections however many threads serve
requests (under ASGI each request runs in its own thread; without a pool each thread kept a
connection of its own). Sizing rule: (processes on all hosts) × DATABASE_POOL_MAX_SIZE plus
Celery workers and admin sessions must stay below Postgres' max_connections.
"""

import dj_database_url

from config.env import BASE_DIR, env, env_bool, env_int

DATABASE_URL = env("DATABASE_URL")

# Pool per process: connections opened at start and the most it ever holds.
DATABASE_POOL = env_bool("DATABASE_POOL", True)
DATABASE_POOL_MIN_SIZE = env_int("DATABASE_POOL_MIN_SIZE", 2)
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 10)
# A request waits this long for a free pooled connection, then fails with 503.
DATABASE_POOL_TIMEOUT = env_int("DATABASE_POOL_TIMEOUT", 10)
# A server that accepts TCP but never answers: give up connecting after this many seconds.
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5)
# Postgres cancels any statement running longer than this (milliseconds; 0 = no limit).
DATABASE_STATEMENT_TIMEOUT_MS = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 30_000)
# Shown in pg_stat_activity.application_name: which app (and test server) holds a connection.
DATABASE_APPLICATION_NAME = env("DATABASE_APPLICATION_NAME", "missions")

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["connect_timeout"] = DATABASE_CONNECT_TIMEOUT
    options["application_name"] = DATABASE_APPLICATION_NAME
    options["options"] = f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}"
    if DATABASE_POOL:
        options["pool"] = {
            "min_size": DATABASE_POOL_MIN_SIZE,
            "max_size": DATABASE_POOL_MAX_SIZE,
            "timeout": DATABASE_POOL_TIMEOUT,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BASE_DIR / "db.sqlite3"),
            # Many requests write at once (events, claims): take the write lock when a
            # transaction begins (no lock-upgrade deadlock, "database is locked") and wait
            # for it; WAL lets readers go on while one request writes.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
