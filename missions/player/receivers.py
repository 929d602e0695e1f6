"""Signal receivers of the player surface (wired in MissionsConfig.ready): the engine's
batches and assignments become live messages, sent after the commit."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from ..models import ActiveMission
from ..signals import live_messages, missions_assigned
from .live import online_user_ids, send_many_on_commit
from .representations import mission_json
from .selectors import missions_by_ids


@receiver(live_messages, dispatch_uid="missions.player.send_live_messages")
def send_live_messages(
    sender: Any, messages: list[tuple[int, dict[str, Any]]], **kwargs: Any
) -> None:
    send_many_on_commit(messages)


def mission_new_message(mission: ActiveMission, *, now: Any) -> dict[str, Any]:
    icon = (mission.template.metadata or {}).get("icon") or ""
    return {
        "type": "mission:new",
        "mission": mission_json(mission, now=now),
        "notification": {
            "title": "New Mission Available!",
            "message": mission.template.name,
            "icon": icon,
        },
    }


@receiver(missions_assigned, dispatch_uid="missions.push_new_missions")
def push_new_missions(sender: Any, missions: list[ActiveMission], **kwargs: Any) -> None:
    """`mission:new` to each mission's own player (never to anyone else)."""
    online = online_user_ids(m.user_id for m in missions)
    if not online:
        return  # a rollover for players who are not looking: nothing to load or send
    now = timezone.now()
    loaded = missions_by_ids([m.pk for m in missions if m.user_id in online])
    send_many_on_commit([(m.user_id, mission_new_message(m, now=now)) for m in loaded])
