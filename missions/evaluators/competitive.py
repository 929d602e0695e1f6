"""competitive: a score per participant over the period (count, or sum of `field`).

Reaching the target completes the mission (the participation reward); the score keeps
counting until the period ends so the leaderboard stays live. Final ranks and tier rewards
come from period finalisation (the scheduler).
"""

from .base import ACTIVE, COMPLETED, Evaluator


class CompetitiveEvaluator(Evaluator):
    type = "competitive"
    live_states = (ACTIVE, COMPLETED, "claimed")
