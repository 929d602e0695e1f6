"""`make simulate`: synthetic players live through a time-warped span, then every invariant
is checked.

Each day a share of the players is active (each player has their own propensity; 15 % on
average), and they act through the real ingestion path (`events_ingest`, the service behind
`missions.track` and `POST /api/v1/events`) in time-ordered batches of 1,000 events that
arrive when their last event happened; the beat tasks fire at each boundary as the schedule
would (the local rollover at 00:00 — the simulated players live in UTC, so its other
quarter-hour runs find nobody due —, the every-minute sweeps once the late-event grace has
passed and at a special window's start); in the evening some of the day's players claim all they can
(`missions_claim_all`), and what the others leave is paid by the auto-grant. The clock is
injected everywhere (`now=`): no sleeping through real days.

At the end, with the clock past every claim deadline:
- replay equals stored progress, and the replay checks pass: streaks rebuilt equal the
  stored ones, the ledger balances (replay_events with its registered checks);
- no active mission past its period (+ late grace);
- every completed mission past its claim deadline is claimed exactly once (one Claim row,
  one ledger grant), by the player or the auto-grant;
- competitive tiers are paid exactly once: one competitive Claim per paid standing;
- the metrics counters recorded during the run (rewards distributed, claims and auto-grants
  granted, events accepted) equal the ledger, the Claim rows and the events sent.

Run: `python -m ops.simulate` (10,000 players × 90 days, the defaults) or
`make simulate SIM="--players 1000 --days 14"`; `--active-share`, `--claim-share`, `--seed`.
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


def _metric_values() -> dict[tuple[str, tuple[str, ...]], float]:
    """This process's counters the ledger can be checked against (its own registry: the
    simulation is one process and runs every task inline)."""
    from missions import metrics

    out: dict[tuple[str, tuple[str, ...]], float] = {}
    for counter in (metrics.REWARDS_DISTRIBUTED, metrics.CLAIMS, metrics.EVENTS):
        for family in counter.collect():
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    out[(sample.name, tuple(sorted(sample.labels.values())))] = sample.value
    return out


def _propensities(rng: random.Random, players: int, active_share: float) -> list[float]:
    """Each player's chance to act on a given day, with mean `active_share`: a Beta(0.5, b)
    draw, so a few players come nearly every day and most come rarely, as on a real forum."""
    share = min(max(active_share, 0.001), 0.999)
    b = 0.5 * (1 - share) / share
    return [rng.betavariate(0.5, b) for _ in range(players)]


def run_simulation(
    *,
    players: int,
    days: int,
    start: datetime,
    seed: int = 7,
    active_share: float = 0.15,
    claim_share: float = 0.6,
    max_events: int = 6,
    batch_size: int = 1000,
    echo: Any = None,
) -> SimReport:
    """Run the simulation on the configured database (empty apart from migrations).

    Each day: the local rollover at 00:00; the players active that day (each with their own
    propensity, `active_share` on average) send 1..`max_events` events spread over the day,
    ingested in time order in batches of `batch_size` that arrive when their last event
    happened; the sweeps fire at 00:00 + late grace (and at a special window's start) before
    the first batch that arrives after that moment; in the evening a share `claim_share` of
    the day's active players claim all they can, and the rest is left to the auto-grant."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from missions import tasks as mission_tasks
    from missions.models import ActiveMission, MissionTemplate, PlayerProfile
    from missions.services.ingest import events_ingest
    from missions.services.replay import replay_events
    from missions.validation import validate_template
    from rewards import tasks as reward_tasks
    from rewards.models import Claim, CompetitiveStanding, LedgerEntry
    from rewards.services import missions_claim_all
    from streaks import tasks as streak_tasks

    say = echo or (lambda *_: None)
    started = time.perf_counter()
    metrics_before = _metric_values()
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
    propensity = dict(zip(user_ids, _propensities(rng, players, active_share), strict=True))

    def sweep(now: datetime) -> None:
        """What beat's every-minute entries do (config/schedule.py), at `now`."""
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
        t = time.perf_counter()
        active = [u for u in user_ids if rng.random() < propensity[u]]
        events: list[tuple[datetime, dict[str, Any]]] = []
        for user_id in active:
            for _ in range(rng.randint(1, max_events)):
                seq += 1
                when = midnight + timedelta(seconds=rng.randint(60, 86_399))
                events.append((when, _event(rng, user_id, when, seq)))
        events.sort(key=lambda pair: pair[0])
        phase("generate", t)
        # The beat moments of the day, in order; each fires before the first batch after it.
        moments = [midnight + grace]
        if midnight <= special_start < midnight + timedelta(days=1):
            moments.append(special_start)
        for i in range(0, len(events), batch_size):
            batch = events[i : i + batch_size]
            arrival = batch[-1][0] + timedelta(seconds=1)
            while moments and moments[0] <= arrival:
                sweep(moments.pop(0))
            t = time.perf_counter()
            result = events_ingest(events=[event for _, event in batch], now=arrival)
            report.events += len(batch)
            report.accepted += result.accepted
            if result.rejected:
                report.violations.append(f"rejected events: {result.rejected[:3]}")
            phase("ingest", t)
        for moment in moments:
            sweep(moment)
        # In the evening some of the day's players claim everything they can; the others'
        # rewards wait for the auto-grant once the claim grace has passed.
        t = time.perf_counter()
        evening = midnight + timedelta(hours=23, minutes=59)
        claimers = {u for u in active if rng.random() < claim_share}
        with_completed = (
            ActiveMission.objects.filter(state="completed", user_id__in=claimers)
            .values_list("user_id", flat=True)
            .distinct()
        )
        for user_id in sorted(with_completed):
            report.claims += len(missions_claim_all(user_id=user_id, now=evening).claimed)
        phase("claims", t)
        if day % 10 == 0 or day == days - 1:
            say(
                f"day {day + 1}/{days}: {report.accepted} events, {report.claims} claims, "
                f"{round(time.perf_counter() - started)} s"
            )

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
    # /metrics' counters (what this process recorded during the run) equal the ledger.
    after = _metric_values()

    def counted(name: str, *labels: str) -> float:
        key = (name, tuple(sorted(labels)))
        return after.get(key, 0.0) - metrics_before.get(key, 0.0)

    from django.db.models import Sum

    ledger = LedgerEntry.objects.aggregate(xp=Sum("xp"), dgt=Sum("dgt"))
    by_source = Counter(Claim.objects.values_list("source", flat=True))
    expected = {
        ("mission_rewards_distributed_total", "xp"): float(ledger["xp"] or 0),
        ("mission_rewards_distributed_total", "dgt"): float(ledger["dgt"] or 0),
        ("mission_claims_total", "claim", "granted"): float(by_source.get("claim", 0)),
        ("mission_claims_total", "auto_grant", "granted"): float(by_source.get("auto_grant", 0)),
        ("mission_events_total", "accepted"): float(report.accepted),
    }
    for (name, *labels), want in expected.items():
        got = counted(name, *labels)
        if abs(got - want) > 1e-6 * max(1.0, abs(want)):
            report.violations.append(f"/metrics {name}{labels}: {got}, the ledger says {want}")
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
    # The issue's size; 90 days from 15 December cross ISO weeks, three months and a year,
    # with a special window in the middle. docs/operations.md has what it costs.
    parser.add_argument("--players", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--active-share", type=float, default=0.15)
    parser.add_argument("--claim-share", type=float, default=0.6)
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
        active_share=args.active_share,
        claim_share=args.claim_share,
        echo=lambda line: print(line, file=sys.stderr),
    )
    print(f"players {report.players}, days {report.days}, start {start:%Y-%m-%d}")
    print(f"events {report.events} sent, {report.accepted} accepted")
    print(f"claims {report.claims} by players (claim all)")
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
