"""Signals of the missions app.

mission_completed and missions_assigned are sent after the database commit; live_messages
inside the transaction that produced the messages (its receiver delivers them after the commit).
track_event is the signal door for host apps: send it and the event is ingested.
"""

from django.dispatch import Signal

# kwargs: mission (ActiveMission, state completed)
mission_completed = Signal()

# kwargs: missions (list[ActiveMission]) newly assigned, possibly for many users
missions_assigned = Signal()

# kwargs: missions (list[ActiveMission], state completed) — sent INSIDE the transaction that
# completed them, for receivers whose own writes must commit or roll back with the completion
# (the webhook outbox). Receivers must not do slow I/O here.
missions_completed_in_transaction = Signal()

# kwargs: messages (list[tuple[user_id, message dict]]): progress and completion pushes of an
# applied batch. The player surface (missions/player/receivers.py) sends them after the commit;
# the engine never imports the live layer.
live_messages = Signal()

# Sent BY host apps. kwargs: user (User or id), action, data (dict, optional),
# event_id (str, optional but recommended: makes re-sends harmless), occurred_at (optional)
track_event = Signal()
