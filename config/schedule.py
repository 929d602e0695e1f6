"""The one place the lifecycle schedule is declared. `manage.py setup_schedule` (called by
`make run`, `make up` and deploys) turns it into django-celery-beat PeriodicTask rows, which
beat's DatabaseScheduler reads and admins see and edit at /admin/django_celery_beat/.

Times are UTC. A crontab is (minute, hour, day_of_week, day_of_month); an interval is
seconds. Every task is idempotent, so a late, repeated or overlapping run changes nothing.

The rollover runs every 15 minutes, not at 00:00 UTC: each player's periods end at their
own local midnight, and every UTC offset in use today is a whole quarter hour, so each
offset's batch of players is rolled over by the run at its midnight (a run that comes late
takes everyone due since).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config.env import env_int
from config.settings.analytics import ANALYTICS_REFRESH_SECONDS

# How often beat sends the heartbeat task; /healthz reports its age.
BEAT_HEARTBEAT_SECONDS = env_int("OPS_BEAT_HEARTBEAT_SECONDS", 60)
# The minutes of each hour the local rollover runs (every offset's midnight is one of them).
ROLLOVER_MINUTES = "0,15,30,45"
# How often the sweeps (close, deadlines, windows, auto-grant, competitive, streaks) run.
SWEEP_SECONDS = env_int("OPS_SWEEP_SECONDS", 60)


@dataclass(frozen=True)
class Entry:
    name: str
    task: str
    crontab: tuple[str, str, str, str] | None = None
    every_seconds: int | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""


SCHEDULE: list[Entry] = [
    Entry(
        "missions: local rollover",
        "missions.rollover_local",
        crontab=(ROLLOVER_MINUTES, "*", "*", "*"),
        description="Players whose local midnight passed (batched per UTC offset): close "
        "ended periods, assign their new day, week or month, push mission:new.",
    ),
    Entry(
        "missions: close ended periods",
        "missions.close_ended",
        every_seconds=SWEEP_SECONDS,
        description="Unfinished missions past period end + late grace: expired / failed.",
    ),
    Entry(
        "missions: fail timebound missions",
        "missions.fail_timebound",
        every_seconds=SWEEP_SECONDS,
        description="Timebound missions past their time limit + late grace: failed.",
    ),
    Entry(
        "missions: open special windows",
        "missions.open_special_windows",
        every_seconds=SWEEP_SECONDS,
        description="Special templates whose starts_at passed: assigned to every player once.",
    ),
    Entry(
        "rewards: finalise competitive periods",
        "rewards.finalize_competitive",
        every_seconds=SWEEP_SECONDS,
        description="Final ranks, leaderboard snapshot, tier rewards paid once.",
    ),
    Entry(
        "rewards: auto-grant unclaimed",
        "rewards.auto_grant_unclaimed",
        every_seconds=SWEEP_SECONDS,
        description="Completed missions unclaimed past the grace time: paid like a claim.",
    ),
    Entry(
        "streaks: credit pending completions",
        "streaks.credit_pending",
        every_seconds=SWEEP_SECONDS,
        description="The streak outbox: completions whose streak step was not counted yet.",
    ),
    Entry(
        "webhooks: deliver due",
        "webhooks.deliver_due",
        every_seconds=SWEEP_SECONDS,
        description="Pending webhook deliveries whose back-off has passed (docs/webhooks.md).",
    ),
    Entry(
        "analytics: refresh rollups",
        "analytics.refresh_rollups",
        every_seconds=ANALYTICS_REFRESH_SECONDS,
        description="Rebuilds the recent days of the analytics rollups.",
    ),
    Entry(
        "missions: event log partitions",
        "missions.event_log_maintain",
        crontab=("17", "*", "*", "*"),
        description="Hourly: monthly log partitions created ahead; months past the retention "
        "snapshotted, detached and dropped (docs/events.md).",
    ),
    Entry(
        "ops: beat heartbeat",
        "missions.beat_heartbeat",
        every_seconds=BEAT_HEARTBEAT_SECONDS,
        description="Proves beat and a worker run; /healthz reports its age.",
    ),
]
