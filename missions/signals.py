"""Signals of the missions app.

mission_completed and missions_assigned are sent after the database commit.
track_event is the signal door for host apps: send it and the event is ingested.
"""

from django.dispatch import Signal

# kwargs: mission (ActiveMission, state completed)
mission_completed = Signal()

# kwargs: missions (list[ActiveMission]) newly assigned, possibly for many users
missions_assigned = Signal()

# Sent BY host apps. kwargs: user (User or id), action, data (dict, optional),
# event_id (str, optional but recommended: makes re-sends harmless), occurred_at (optional)
track_event = Signal()
