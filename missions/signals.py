"""Signals other apps listen to. Both are sent after the database commit."""

from django.dispatch import Signal

# kwargs: mission (ActiveMission, state completed)
mission_completed = Signal()

# kwargs: missions (list[ActiveMission]) newly assigned, possibly for many users
missions_assigned = Signal()
