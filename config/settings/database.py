"""DATABASE_URL switches from the embedded SQLite default to Postgres."""

import dj_database_url

from config.env import BASE_DIR, env, env_int

DATABASE_URL = env("DATABASE_URL")
# Seconds to wait for Postgres to accept a connection: a Postgres that accepts TCP and never
# answers must cost a request an error, not a hang.
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5)

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = DATABASE_CONNECT_TIMEOUT
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
