"""Demo data for `make run`: templates of every type and category, players, an admin. Idempotent."""

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from analytics.services import analytics_refresh
from examples.forum.demo import seed_forum_demo
from missions.demo.history import events_for
from missions.models import ActiveMission, MissionTemplate, PlayerProfile, ServiceKey
from missions.services import missions_assign_all, templates_load
from missions.services.ingest import events_ingest
from missions.services.lifecycle import missions_close_ended
from missions.services.service_keys import key_hash, service_key_create
from rewards.demo import seed_rewards_demo
from rewards.levels import xp_for_level
from rewards.models import Badge, Item, Title, UserBadge
from rewards.services import rewards_auto_grant_unclaimed, rewards_grant

DEMO_TEMPLATES = Path(__file__).resolve().parents[2] / "demo" / "templates.json"
ADMIN = ("admin", "admin-demo-pass")
PLAYER_PASSWORD = "player-demo-pass"
PLAYERS = 50
# A fixed key for local demos only (DEBUG); anywhere else a random key is made and shown once.
DEMO_KEY_NAME = "demo"
DEMO_KEY = "msk_demo_local_only_do_not_use_in_production"
# Share of each target the demo history reaches, picked per mission: none, half, all.
HISTORY_SHARES = (0.0, 0.5, 1.0)
# Past days: most missions see some progress, about half are completed, the rest abandoned.
PAST_SHARES = (0.0, 0.5, 1.0, 1.0, 0.3)
# Past days seeded by default (make run passes --history-days 21 for the analytics charts).
HISTORY_DAYS = 0

ITEMS = {"streak_freeze": ("Streak Freeze", "Covers one missed day of your streak.", "snowflake")}
BADGES = {
    "newcomer": "Newcomer",
    "wordsmith": "Wordsmith",
    "weekly_champion": "Weekly Champion",
    "marathoner": "Marathoner",
    "snowflake": "Snowflake",
    "centurion": "Centurion",
    "vip": "VIP",
}
TITLES = {
    "scribe": "Scribe",
    "contributor": "Contributor",
    "whale": "Whale",
    "centurion": "Centurion",
}


def admin_edited_keys() -> set[str]:
    """Keys of templates an admin added or changed in the admin (its change log says so):
    seeding again must never revert them."""
    from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(MissionTemplate)
    ids = LogEntry.objects.filter(
        content_type=content_type, action_flag__in=(ADDITION, CHANGE)
    ).values_list("object_id", flat=True)
    return set(
        MissionTemplate.objects.filter(
            pk__in=[int(i) for i in ids if i and i.isdigit()]
        ).values_list("key", flat=True)
    )


def demo_level(index: int) -> int:
    """Players 1..50 spread over levels 1..25 so level-gated templates differ between them."""
    return 1 + (index * 7) % 25


class Command(BaseCommand):
    help = "Load demo templates, catalogs, 50 players and an admin (safe to run again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--players", type=int, default=PLAYERS)
        parser.add_argument(
            "--history-days",
            type=int,
            default=HISTORY_DAYS,
            help="days of past missions and events before today (analytics charts); "
            "make run uses 21",
        )
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="where the server will answer"
        )

    def handle(self, *args: Any, players: int, **options: Any) -> None:
        now = timezone.now()
        base = str(options["base_url"]).rstrip("/")
        templates = json.loads(DEMO_TEMPLATES.read_text())
        running = {
            t.key: t
            for t in MissionTemplate.objects.filter(
                period_type="special", starts_at__lte=now, ends_at__gt=now
            )
        }
        for template in templates:
            if template.get("period_type") == "special":
                # Keep the demo's special event running whenever the demo is loaded; a window
                # that still runs is kept, so seeding again does not open a new period.
                kept = running.get(template["key"])
                if kept and kept.starts_at and kept.ends_at:
                    start, end = kept.starts_at, kept.ends_at
                else:
                    start = (now - timedelta(days=7)).replace(
                        hour=0, minute=0, second=0, microsecond=0
                    )
                    end = start + timedelta(days=44)
                template["starts_at"], template["ends_at"] = start.isoformat(), end.isoformat()
        edited = admin_edited_keys()
        templates = [t for t in templates if t["key"] not in edited]
        User = get_user_model()
        with transaction.atomic():
            for key, (name, description, icon) in ITEMS.items():
                Item.objects.update_or_create(
                    key=key, defaults={"name": name, "description": description, "icon": icon}
                )
            for key, name in BADGES.items():
                Badge.objects.update_or_create(key=key, defaults={"name": name})
            for key, name in TITLES.items():
                Title.objects.update_or_create(key=key, defaults={"name": name})
            created, updated = templates_load(items=templates)
            admin, _ = User.objects.get_or_create(
                username=ADMIN[0], defaults={"email": "admin@example.com"}
            )
            admin.is_staff = admin.is_superuser = True
            admin.set_password(ADMIN[1])
            admin.save()
            vip = Badge.objects.get(key="vip")
            for index in range(1, players + 1):
                user, was_new = User.objects.get_or_create(username=f"player{index:02d}")
                if was_new:
                    user.set_password(PLAYER_PASSWORD)
                    user.save()
                PlayerProfile.objects.get_or_create(user=user)
                # Levels come from XP: a starting balance through the ledger, granted once.
                rewards_grant(
                    user_id=user.pk,
                    rewards={"xp": xp_for_level(demo_level(index)), "dgt": "100"},
                    idempotency_key=f"demo:start:{user.pk}",
                    reason="demo starting balance",
                )
                if index % 10 == 0:
                    UserBadge.objects.get_or_create(user=user, badge=vip)
        seed_rewards_demo()
        seed_forum_demo(author_username=ADMIN[0])
        past = self.past_history(now, int(options.get("history_days", HISTORY_DAYS)))
        assigned = missions_assign_all(now=now)
        accepted = past + self.history(now)
        # The real end-of-period paths: unfinished past missions are abandoned, unclaimed
        # completions are granted; then the analytics rollups cover the whole history.
        missions_close_ended(now=now)
        rewards_auto_grant_unclaimed(now=now)
        today = now.date()
        analytics_refresh(
            start=today - timedelta(days=int(options.get("history_days", HISTORY_DAYS))),
            end=today,
        )
        self.stdout.write(
            f"templates: {created} created, {updated} updated, {len(edited)} kept as an admin "
            "edited them; "
            f"players: {players}; missions assigned: {assigned}; history events: {accepted}"
        )
        self.service_key(base)
        self.stdout.write(
            self.style.SUCCESS(f"Admin login:  {ADMIN[0]} / {ADMIN[1]}  → {base}/admin/")
        )
        self.stdout.write(
            self.style.SUCCESS(f"Player login: player01 / {PLAYER_PASSWORD}  → {base}/")
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Example forum (posts, replies, likes move missions) → {base}/forum/"
            )
        )

    def past_history(self, now: Any, days: int) -> int:
        """Missions and events of the past `days` days through the real paths, with the time
        injected: each day's assignment runs as of that morning, and each event arrives in
        its own period (so it counts; SPEC: events after their period do not)."""
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        players = list(
            get_user_model()
            .objects.filter(username__startswith="player")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        accepted = 0
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            morning = day + timedelta(minutes=5)
            missions_assign_all(now=morning, user_ids=players)
            missions = (
                ActiveMission.objects.filter(
                    user_id__in=players,
                    state="active",
                    period_start__lte=morning,
                    period_end__gt=morning,
                )
                .select_related("template")
                .prefetch_related("progress")
                .order_by("user_id", "id")
            )
            events = []
            for mission in missions:
                pick = (mission.user_id + mission.template_id + back) % len(PAST_SHARES)
                share = PAST_SHARES[pick]
                if not share:
                    continue
                moment = day + timedelta(hours=8 + mission.user_id % 10, minutes=back)
                events += [
                    e
                    for e in events_for(mission, now=moment, share=share)
                    if day.isoformat() <= e["occurred_at"] < (day + timedelta(days=1)).isoformat()
                ]
            arrival = day + timedelta(hours=20)
            for start in range(0, len(events), settings.MISSIONS_MAX_BATCH):
                batch = events[start : start + settings.MISSIONS_MAX_BATCH]
                accepted += events_ingest(events=batch, now=arrival).accepted
            # The scheduler's end of the day, as of then: ended periods close, completions
            # past the claim grace are auto-granted (so the payouts spread over the days).
            midnight = day + timedelta(days=1)
            missions_close_ended(now=midnight)
            rewards_auto_grant_unclaimed(now=midnight)
        return accepted

    def history(self, now: Any) -> int:
        """Progress for the demo players, sent through the real ingestion path (today only,
        so no past periods get missions). Event ids are fixed: seeding again adds nothing."""
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        missions = (
            ActiveMission.objects.filter(
                user__username__startswith="player", state="active", period_start__lte=now
            )
            .select_related("template")
            .prefetch_related("progress")
            .order_by("user_id", "id")
        )
        events = []
        for mission in missions:
            share = HISTORY_SHARES[(mission.user_id + mission.template_id) % len(HISTORY_SHARES)]
            if share:
                events += [
                    e
                    for e in events_for(mission, now=now, share=share)
                    if e["occurred_at"] >= today.isoformat()
                ]
        accepted = 0
        for start in range(0, len(events), settings.MISSIONS_MAX_BATCH):
            result = events_ingest(events=events[start : start + settings.MISSIONS_MAX_BATCH])
            accepted += result.accepted
        return accepted

    def service_key(self, base: str) -> None:
        existing = ServiceKey.objects.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True).first()
        if settings.DEBUG:
            if existing is None:
                ServiceKey.objects.filter(name=DEMO_KEY_NAME).delete()
                service_key_create(name=DEMO_KEY_NAME, raw_key=DEMO_KEY)
            elif existing.key_hash != key_hash(DEMO_KEY):
                self.stdout.write(f"Service key {DEMO_KEY_NAME!r} exists (shown when created).")
                return
            raw = DEMO_KEY
        elif existing is None:
            ServiceKey.objects.filter(name=DEMO_KEY_NAME).delete()
            raw = service_key_create(name=DEMO_KEY_NAME)[1]
        else:
            self.stdout.write(f"Service key {DEMO_KEY_NAME!r} exists (shown once when created).")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Service key:  {raw}  → POST {base}/api/v1/events (Authorization: Bearer <key>)"
            )
        )
