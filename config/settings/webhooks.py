"""Outgoing webhooks (missions/webhooks, docs/webhooks.md)."""

from config.env import env_int

# Seconds to wait for a receiver's answer.
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 5)
# Attempts before a delivery is given up (status "failed"; redeliver from the admin).
WEBHOOKS_MAX_ATTEMPTS = env_int("WEBHOOKS_MAX_ATTEMPTS", 8)
# Back-off after the n-th failure: base × 2^(n-1) seconds, capped.
WEBHOOKS_BACKOFF_BASE_SECONDS = env_int("WEBHOOKS_BACKOFF_BASE_SECONDS", 30)
WEBHOOKS_BACKOFF_CAP_SECONDS = env_int("WEBHOOKS_BACKOFF_CAP_SECONDS", 3600)
