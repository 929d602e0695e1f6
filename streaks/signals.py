"""Signals of the streaks app.

streak_updated is sent inside the transaction that counted a new day or week.
kwargs: user_id, kind, update (StreakUpdate: streak, frozen_days, broken).
"""

from django.dispatch import Signal

streak_updated = Signal()
