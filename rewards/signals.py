"""Signals of the rewards app.

reward_granted is sent inside the transaction of the grant (so a receiver's own writes,
e.g. a webhook outbox row, commit or roll back with it). kwargs: result (GrantResult,
created=True), user_id, reason, mission_id.

leaderboard_finalised is sent inside the transaction that fixed a competitive period's
ranks. kwargs: template (MissionTemplate), standings (list[CompetitiveStanding], by rank),
now (datetime).
"""

from django.dispatch import Signal

reward_granted = Signal()
leaderboard_finalised = Signal()
