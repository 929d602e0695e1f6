"""`make simulate`: synthetic players live through a time-warped span, then every invariant
is checked.

Players act through the real ingestion path (`events_ingest`, the service behind
`missions.track` and `POST /api/v1/events`), in hourly batches that arrive at the end of
their hour; the beat tasks fire at each boundary as the schedule would (rollovers at 00:00,
the sweeps an hour later, when the late-event grace has passed); some completed missions
are claimed, the rest are left to the auto-grant. The clock is injected everywhere (`now=`):
no sleeping through real days.

At the end, with the clock past every claim deadline:
- replay equals stored progress, and the replay checks pass: streaks rebuilt equal the
  stored ones, the ledger balances (replay_events with its registered checks);
- no active mission past its period (+ late grace);
- every completed mission past its claim deadline is claimed exactly once (one Claim row,
  one ledger grant), by the player or the auto-grant;
- competitive tiers are paid exactly once: one competitive Claim per paid standing.

Run: `python -m ops.simulate --players 100 --days 30` (the defaults; or
`make simulate SIM="--players 10000 --days 90"`).
Uses SIM_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/missions_sim), which it
drops and re-creates, and SIM_REDIS_URL (default redis://127.0.0.1:6379/7).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

TEMPLATES: list[dict[str, Any]] = [
    # daily: one of each engine type that fits a day
    {
        "key": "sim_daily_posts",
        "type": "count",
        "period_type": "daily",
        "category": "content",
        "requirements": {"p": {"action": "post:created", "target": 3, "label": "3 posts"}},
        "rewards": {"xp": 30, "dgt": "1.5"},
    },
    {
        "key": "sim_daily_big_tip",
        "type": "threshold",
        "period_type": "daily",
        "category": "trading",
        "requirements": {
            "t": {"action": "tip:sent", "target": 50, "label": "a 50 DGT tip", "field": "amount"}
        },
        "rewards": {"xp": 40},
    },
    {
        "key": "sim_daily_forums",
        "type": "unique",
        "period_type": "daily",
        "category": "engagement",
        "requirements": {
            "f": {"action": "post:created", "target": 2, "label": "2 forums", "field": "forum_id"}
        },
        "rewards": {"xp": 25, "dgt": "0.5"},
    },
    {
        "key": "sim_daily_rush",
        "type": "timebound",
        "period_type": "daily",
        "category": "participation",
        "requirements": {"r": {"action": "reaction:added", "target": 2, "label": "2 reactions"}},
        "metadata": {"time_limit_minutes": 600},
        "rewards": {"xp": 50},
    },
    {
        "key": "sim_daily_combo",
        "type": "combo",
        "period_type": "daily",
        "category": "social",
        "requirements": {
            "a": {"action": "thread:created", "target": 1, "label": "a thread"},
            "b": {"action": "reaction:added", "target": 1, "label": "a reaction"},
        },
        "rewards": {"xp": 35},
    },
    # weekly
    {
        "key": "sim_weekly_posts",
        "type": "count",
        "period_type": "weekly",
        "category": "content",
        "requirements": {"p": {"action": "post:created", "target": 12, "label": "12 posts"}},
        "rewards": {"xp": 150, "dgt": "5"},
    },
    {
        "key": "sim_weekly_streak",
        "type": "streak",
        "period_type": "weekly",
        "category": "achievement",
        "requirements": {"s": {"action": "post:created", "target": 3, "label": "3 days running"}},
        "rewards": {"xp": 120},
    },
    {
        "key": "sim_weekly_top",
        "type": "competitive",
        "period_type": "weekly",
        "category": "social",
        "requirements": {"p": {"action": "post:created", "target": 1, "label": "posts"}},
        "metadata": {
            "reward_tiers": [
                {"rank_to": 1, "rewards": {"xp": 1000, "dgt": "100"}},
                {"rank_to": 3, "rewards": {"xp": 400, "dgt": "25"}},
                {"rank_to": 10, "rewards": {"xp": 100}},
            ]
        },
        "rewards": {},
    },
    # monthly, special, perpetual
    {
        "key": "sim_monthly_posts",
        "type": "count",
        "period_type": "monthly",
        "category": "content",
        "requirements": {"p": {"action": "post:created", "target": 30, "label": "30 posts"}},
        "rewards": {"xp": 500, "dgt": "20"},
    },
    {
        "key": "sim_special_event",
        "type": "count",
        "period_type": "special",
        "category": "special_event",
        "requirements": {"p": {"action": "post:created", "target": 5, "label": "5 posts"}},
        "rewards": {"xp": 300},
    },
    {
        "key": "sim_forever_posts",
        "type": "count",
        "period_type": "perpetual",
        "category": "achievement",
        "requirements": {"p": {"action": "post:created", "target": 100, "label": "100 posts"}},
        "rewards": {"xp": 1000},
    },
]


@dataclass
class SimReport:
    players: int = 0
    days: int = 0
    events: int = 0
    accepted: int = 0
    claims: int = 0
    missed_claims: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _event(rng: random.Random, user_id: int, when: datetime, seq: int) -> dict[str, Any]:
    roll = rng.random()
    data: dict[str, Any]
    if roll < 0.55:
        action, data = (
            "post:created",
            {"forum_id": rng.randint(1, 4), "content_length": rng.randint(10, 400)},
        )
    elif roll < 0.7:
        action, data = "tip:sent", {"amount": rng.choice([5, 10, 25, 60, 100])}
    elif roll < 0.8:
        action, data = "thread:created", {"forum_id": rng.randint(1, 4)}
    else:
        action, data = "reaction:added", {"reaction": "like"}
    return {
        "id": f"sim-{user_id}-{seq}",
        "user_id": user_id,
        "action": action,
        "occurred_at": when.isoformat(),
        "data": data,
    }


def run_simulation(
    *,
    players: int,
    days: int,
    start: datetime,
    seed: int = 7,
    active_share: float = 0.5,
    claim_share: float = 0.7,
    max_events: int = 6,
    echo: Any = None,
) -> SimReport:
    """Run the simulation on the configured database (empty apart from migrations)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from missions import tasks as mission_tasks
    from missions.models import ActiveMission, MissionTemplate, PlayerProfile
    from missions.services.ingest import events_ingest
    from missions.services.replay import replay_events
    from missions.validation import validate_template
    from rewards import tasks as reward_tasks
    from rewards.errors import AlreadyClaimed, ClaimExpired
    from rewards.models import Claim, CompetitiveStanding, LedgerEntry
    from rewards.services import mission_claim
    from streaks import tasks as streak_tasks

    say = echo or (lambda *_: None)
    started = time.perf_counter()
    report = SimReport(players=players, days=days)
    rng = random.Random(seed)

    def phase(name: str, since: float) -> None:
        report.phases[name] = round(report.phases.get(name, 0.0) + time.perf_counter() - since, 2)

    grace = timedelta(minutes=int(settings.MISSIONS_LATE_EVENT_GRACE_MINUTES))
    special_start = start + timedelta(days=days // 2, hours=12)
    for raw in TEMPLATES:
        data = {"name": raw["key"].replace("_", " ").title(), **raw}
        if raw["period_type"] == "special":
            data["starts_at"] = special_start.isoformat()
            data["ends_at"] = (special_start + timedelta(days=3)).isoformat()
        MissionTemplate.objects.create(**validate_template(data))
    User = get_user_model()
    User.objects.bulk_create(
        [User(username=f"sim{i:06d}", password="!") for i in range(players)], batch_size=5000
    )
    user_ids = list(User.objects.order_by("pk").values_list("pk", flat=True))
    PlayerProfile.objects.bulk_create([PlayerProfile(user_id=u) for u in user_ids])

    def sweep(now: datetime) -> None:
        t = time.perf_counter()
        iso = now.isoformat()
        mission_tasks.close_ended(now=iso)
        mission_tasks.fail_timebound(now=iso)
        mission_tasks.open_special_windows(now=iso)
        reward_tasks.finalize_competitive(now=iso)
        reward_tasks.auto_grant_unclaimed(now=iso)
        streak_tasks.credit_pending(now=iso)
        phase("sweeps", t)

    seq = 0
    for day in range(days):
        midnight = start + timedelta(days=day)
        t = time.perf_counter()
        # The simulated players live in UTC: the local rollover's run at 00:00 takes them all.
        mission_tasks.rollover_local(now=midnight.isoformat())
        phase("rollover", t)
        # Players act through the day; each hour's events arrive at the end of that hour.
        by_hour: dict[int, list[dict[str, Any]]] = {}
        for user_id in user_ids:
            if rng.random() >= active_share:
                continue
            for _ in range(rng.randint(1, max_events)):
                seq += 1
                when = midnight + timedelta(seconds=rng.randint(60, 86_399))
                by_hour.setdefault(when.hour, []).append(_event(rng, user_id, when, seq))
        for hour in range(24):
            if hour == 1:
                sweep(midnight + grace)  # the sweeps once the late grace has passed
            if hour == 12 and midnight <= special_start < midnight + timedelta(days=1):
                sweep(special_start)  # the window opens at its starts_at
            batch = sorted(by_hour.get(hour, []), key=lambda e: e["occurred_at"])
            arrival = midnight + timedelta(hours=hour + 1)
            t = time.perf_counter()
            for i in range(0, len(batch), 1000):
                result = events_ingest(events=batch[i : i + 1000], now=arrival)
                report.events += len(batch[i : i + 1000])
                report.accepted += result.accepted
                if result.rejected:
                    report.violations.append(f"rejected events: {result.rejected[:3]}")
            phase("ingest", t)
        # At the end of the day some players claim what they completed; others forget.
        t = time.perf_counter()
        evening = midnight + timedelta(hours=23, minutes=59)
        for mission_id, user_id in ActiveMission.objects.filter(
            state="completed", completed_at__lt=evening
        ).values_list("pk", "user_id"):
            if rng.random() < claim_share:
                try:
                    mission_claim(mission_id=mission_id, user_id=user_id, now=evening)
                    report.claims += 1
                except (AlreadyClaimed, ClaimExpired):
                    report.missed_claims += 1
        phase("claims", t)
        if day % 10 == 0:
            say(f"day {day + 1}/{days}: {report.accepted} events accepted")

    # Past every claim deadline of the span: what beat would do over the following days.
    end = start + timedelta(days=days)
    final = end + timedelta(hours=int(settings.MISSIONS_CLAIM_GRACE_HOURS)) + grace
    sweep(final)

    t = time.perf_counter()
    replay = replay_events(now=final)
    phase("replay", t)
    report.violations += [str(d) for d in replay.differences[:20]]
    report.violations += replay.problems[:20]
    if len(replay.differences) + len(replay.problems) > 40:
        report.violations.append(
            f"... {len(replay.differences)} replay differences, {len(replay.problems)} problems"
        )
    late = ActiveMission.objects.filter(
        state="active", period_end__isnull=False, period_end__lte=final - grace
    ).count()
    if late:
        report.violations.append(f"{late} active missions past their period")
    deadline = final - grace - timedelta(hours=int(settings.MISSIONS_CLAIM_GRACE_HOURS))
    unpaid = ActiveMission.objects.filter(state="completed", period_end__lte=deadline).count()
    if unpaid:
        report.violations.append(f"{unpaid} completed missions neither claimed nor auto-granted")
    claimed = ActiveMission.objects.filter(state="claimed")
    bad_claims = (
        claimed.annotate(n=Count("claim")).exclude(n=1).count()
        + Claim.objects.values("mission_id").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    grants = LedgerEntry.objects.filter(mission__isnull=False).count()
    if bad_claims or grants != claimed.count():
        report.violations.append(
            f"claims: {bad_claims} missions without exactly one claim; "
            f"{grants} grants for {claimed.count()} claimed missions"
        )
    paid_standings = CompetitiveStanding.objects.filter(tier_rank_to__isnull=False).count()
    competitive_claims = Claim.objects.filter(source="competitive").count()
    if paid_standings != competitive_claims:
        report.violations.append(
            f"competitive: {paid_standings} paid standings, {competitive_claims} payouts"
        )
    report.figures = {
        "missions": dict(Counter(ActiveMission.objects.values_list("state", flat=True))),
        "claims_by_source": dict(Counter(Claim.objects.values_list("source", flat=True))),
        "competitive_periods": CompetitiveStanding.objects.values("template", "period_start")
        .distinct()
        .count(),
        "standings": CompetitiveStanding.objects.count(),
        "ledger_entries": LedgerEntry.objects.count(),
        "replayed_events": replay.events,
    }
    report.seconds = round(time.perf_counter() - started, 1)
    return report


def _recreate_database(url: str) -> None:
    name = url.rsplit("/", 1)[-1]
    for command in (["dropdb", "--if-exists"], ["createdb"]):
        subprocess.run([*command, "-h", "127.0.0.1", "-U", "postgres", name], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # Defaults sized to the 10-minute target on a shared 2-core box (docs/operations.md):
    # 30 days from 15 December cross ISO weeks, a month and a year, and a special window.
    parser.add_argument("--players", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--start", default="2026-12-15T00:00:00+00:00")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    url = os.environ.get("SIM_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/missions_sim"
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = os.environ.get("SIM_REDIS_URL") or "redis://127.0.0.1:6379/7"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.django.local"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    _recreate_database(url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command

    settings.CELERY_TASK_ALWAYS_EAGER = True  # tasks inline: the clock is ours
    call_command("migrate", verbosity=0)
    cache.delete_pattern("missions:*")  # type: ignore[attr-defined]  # django-redis
    start = datetime.fromisoformat(args.start).astimezone(UTC)
    report = run_simulation(
        players=args.players,
        days=args.days,
        start=start,
        seed=args.seed,
        echo=lambda line: print(line, file=sys.stderr),
    )
    print(f"players {report.players}, days {report.days}, start {start:%Y-%m-%d}")
    print(f"events {report.events} sent, {report.accepted} accepted")
    print(f"claims {report.claims} by players, {report.missed_claims} refused")
    for name, value in report.figures.items():
        print(f"{name}: {value}")
    print(f"phases (s): {report.phases}")
    print(f"wall time: {report.seconds} s")
    print(f"invariant violations: {len(report.violations)}")
    for violation in report.violations:
        print(f"  - {violation}")
    return 1 if report.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
