"""DATABASE_URL switches from the embedded SQLite default to Postgres."""

import dj_database_url

from config.env import BASE_DIR, env

DATABASE_URL = env("DATABASE_URL")

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
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
