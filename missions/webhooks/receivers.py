"""Turn the apps' signals into webhook events (wired in WebhooksConfig.ready).

Every event is recorded inside the transaction that caused it (an outbox): a completion,
a grant, a streak step or a final leaderboard that rolls back sends nothing, and one that
commits is delivered even if the process dies right after the commit.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from missions.models import ActiveMission
from missions.signals import missions_completed_in_transaction
from rewards.services.ledger import dgt_str
from rewards.signals import leaderboard_finalised, reward_granted
from streaks.signals import streak_updated

from .models import WebhookEventType
from .services import webhook_emit, webhook_emit_many


@receiver(missions_completed_in_transaction, dispatch_uid="webhooks.mission_completed")
def on_missions_completed(sender: Any, missions: list[ActiveMission], **kwargs: Any) -> None:
    webhook_emit_many(
        type=WebhookEventType.MISSION_COMPLETED,
        payloads=[
            {
                "user_id": mission.user_id,
                "mission_id": mission.pk,
                "template_key": mission.template.key,
                "name": mission.template.name,
                "category": mission.template.category,
                "mission_type": mission.template.type,
                "period_type": mission.period_type,
                "period_start": mission.period_start,
                "period_end": mission.period_end,
                "completed_at": mission.completed_at,
                "rewards": mission.template.rewards,
            }
            for mission in missions
        ],
    )


@receiver(reward_granted, dispatch_uid="webhooks.reward_granted")
def on_reward_granted(
    sender: Any, result: Any, user_id: int, reason: str, mission_id: int | None, **kwargs: Any
) -> None:
    webhook_emit(
        type=WebhookEventType.REWARD_GRANTED,
        payload={
            "user_id": user_id,
            "ledger_entry_id": result.entry.pk,
            "idempotency_key": result.entry.idempotency_key,
            "reason": reason,
            "mission_id": mission_id,
            "xp": result.xp,
            "dgt": dgt_str(result.dgt),
            "items": result.items,
            "badges": result.badges,
            "titles": result.titles,
            "level": result.level,
        },
    )


@receiver(streak_updated, dispatch_uid="webhooks.streak_updated")
def on_streak_updated(sender: Any, user_id: int, kind: str, update: Any, **kwargs: Any) -> None:
    streak = update.streak
    if update.broken is not None:
        webhook_emit(
            type=WebhookEventType.STREAK_LOST,
            payload={
                "user_id": user_id,
                "kind": kind,
                "lost_length": update.broken.length,
                "missed_from": update.broken.missed_from,
            },
        )
    webhook_emit(
        type=WebhookEventType.STREAK_EXTENDED,
        payload={
            "user_id": user_id,
            "kind": kind,
            "current": streak.current,
            "best": streak.best,
            "last_completed": streak.last_completed,
            "frozen_days": update.frozen_days,
        },
    )


@receiver(leaderboard_finalised, dispatch_uid="webhooks.leaderboard_finalised")
def on_leaderboard_finalised(
    sender: Any, template: Any, standings: list[Any], now: Any, **kwargs: Any
) -> None:
    first = standings[0] if standings else None
    webhook_emit(
        type=WebhookEventType.LEADERBOARD_FINALISED,
        payload={
            "template_key": template.key,
            "name": template.name,
            "period_start": first.period_start if first else None,
            "period_end": first.period_end if first else None,
            "finalized_at": now,
            "players": len(standings),
            "standings": [
                {
                    "user_id": s.user_id,
                    "mission_id": s.mission_id,
                    "rank": s.rank,
                    "score": str(s.score),
                    "tier_rank_to": s.tier_rank_to,
                }
                for s in standings
            ],
        },
    )
