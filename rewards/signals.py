"""Signals of the rewards app.

reward_granted is sent inside the transaction of the grant (so a receiver's own writes,
e.g. a webhook outbox row, commit or roll back with it). kwargs: result (GrantResult,
created=True), user_id, reason, mission_id.
"""

from django.dispatch import Signal

reward_granted = Signal()
