"""Mission types: one small evaluator class per type behind one interface (base.Evaluator).

Adding a type: one file here, one line in EVALUATORS, its tests (docs/mission-types.md).
"""

from __future__ import annotations

from .base import Evaluator, EventRecord, MissionRun, ProgressState, Step, in_period
from .combo import ComboEvaluator
from .competitive import CompetitiveEvaluator
from .count import CountEvaluator
from .streak import StreakEvaluator
from .threshold import ThresholdEvaluator
from .timebound import TimeboundEvaluator
from .unique import UniqueEvaluator

EVALUATORS: dict[str, Evaluator] = {
    evaluator.type: evaluator
    for evaluator in (
        CountEvaluator(),
        ThresholdEvaluator(),
        UniqueEvaluator(),
        StreakEvaluator(),
        TimeboundEvaluator(),
        ComboEvaluator(),
        CompetitiveEvaluator(),
    )
}


def evaluator_for(mission_type: str) -> Evaluator:
    try:
        return EVALUATORS[mission_type]
    except KeyError:
        raise ValueError(f"no evaluator for mission type {mission_type!r}") from None


__all__ = [
    "EVALUATORS",
    "Evaluator",
    "EventRecord",
    "MissionRun",
    "ProgressState",
    "Step",
    "evaluator_for",
    "in_period",
]
