"""competitive: a score per participant over the period (count, or sum of `field`).

Events never complete it: the score counts until the period ends and
`missions.selectors.leaderboard` ranks it live. At period end the finaliser
(rewards/services/competitive.py) fixes the ranks and pays the tier rewards; the target is
the qualifying score.
"""

from .base import Evaluator, MissionRun


class CompetitiveEvaluator(Evaluator):
    type = "competitive"

    def completes(self, run: MissionRun) -> bool:
        return False
