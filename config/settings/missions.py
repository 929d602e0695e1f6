"""Product settings; each can be overridden by the environment."""

from config.env import env_bool, env_int

# How many missions each eligible player draws per period type.
MISSIONS_PER_PERIOD = {
    "daily": env_int("MISSIONS_DAILY", 3),
    "weekly": env_int("MISSIONS_WEEKLY", 2),
    "monthly": env_int("MISSIONS_MONTHLY", 1),
}
# Assignment policy: a mission is handed out only while at least this percentage of its period
# remains, so nobody gets a set they cannot reasonably finish (a player who arrives in the last
# 6 days of a month gets the next month's set instead). A template's
# metadata.min_remaining_percent overrides its period type's default.
MISSIONS_MIN_REMAINING_PERCENT = {
    "daily": env_int("MISSIONS_DAILY_MIN_REMAINING_PERCENT", 0),
    "weekly": env_int("MISSIONS_WEEKLY_MIN_REMAINING_PERCENT", 10),
    "monthly": env_int("MISSIONS_MONTHLY_MIN_REMAINING_PERCENT", 10),
    "special": env_int("MISSIONS_SPECIAL_MIN_REMAINING_PERCENT", 0),
}
# A completed mission stays claimable this long after its period ends.
MISSIONS_CLAIM_GRACE_HOURS = env_int("MISSIONS_CLAIM_GRACE_HOURS", 24)
# After the grace time, unclaimed rewards are granted automatically.
MISSIONS_AUTO_GRANT_UNCLAIMED = env_bool("MISSIONS_AUTO_GRANT_UNCLAIMED", True)
# An event may arrive this long after its period ended and still count.
MISSIONS_LATE_EVENT_GRACE_MINUTES = env_int("MISSIONS_LATE_EVENT_GRACE_MINUTES", 60)
# Two-level cache (missions/cache.py) of each player's current missions for the hub and API.
MISSIONS_CACHE = env_bool("MISSIONS_CACHE", True)
MISSIONS_MAX_BATCH = 1000
# Group commit (missions/services/group_commit.py): POST /api/v1/events with at most
# MISSIONS_INGEST_GROUP_MAX_EVENTS events is committed together with the concurrent requests
# of the same process, at most MISSIONS_INGEST_GROUP_FLIGHTS batches in flight per process.
# Off (0) by default: it cut server CPU per request but did not raise requests/s on the
# bench box (docs/performance.md); 10 turns it on.
MISSIONS_INGEST_GROUP_MAX_EVENTS = env_int("MISSIONS_INGEST_GROUP_MAX_EVENTS", 0)
MISSIONS_INGEST_GROUP_FLIGHTS = env_int("MISSIONS_INGEST_GROUP_FLIGHTS", 2)
MISSIONS_MAX_EVENT_DATA_BYTES = 16 * 1024
# Template JSON limits (the shared validator: admin, API, load_templates): metadata size and
# the number of values an `in` condition may list.
MISSIONS_MAX_TEMPLATE_METADATA_BYTES = env_int("MISSIONS_MAX_TEMPLATE_METADATA_BYTES", 16 * 1024)
MISSIONS_MAX_IN_VALUES = env_int("MISSIONS_MAX_IN_VALUES", 100)
# While its socket is down, the hub polls GET /api/v1/missions this often (seconds).
MISSIONS_HUB_POLL_SECONDS = env_int("MISSIONS_HUB_POLL_SECONDS", 5)
# The event log over years (docs/events.md): on Postgres it is partitioned by month of
# arrival; beat keeps this many months' partitions ready ahead, and retires (snapshots, detaches
# and drops) the months older than the retention — which is also the dedupe window. 0 keeps
# every month. A retired month is kept as a detached table instead of dropped when asked.
MISSIONS_EVENT_RETENTION_MONTHS = env_int("MISSIONS_EVENT_RETENTION_MONTHS", 24)
MISSIONS_EVENT_PARTITIONS_AHEAD = env_int("MISSIONS_EVENT_PARTITIONS_AHEAD", 3)
MISSIONS_EVENT_KEEP_DETACHED = env_bool("MISSIONS_EVENT_KEEP_DETACHED", False)
