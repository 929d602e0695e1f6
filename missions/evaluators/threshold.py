"""threshold: the largest value of `field` seen (one tip of 100+ DGT); done at the target."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Evaluator, EventRecord, ProgressState
from .matching import as_decimal


class ThresholdEvaluator(Evaluator):
    type = "threshold"

    def aggregate(
        self, progress: ProgressState, requirement: Mapping[str, Any], event: EventRecord
    ) -> bool:
        value = as_decimal(event.data.get(str(requirement.get("field"))))
        if value is None or value <= progress.current:
            return False
        progress.current = value
        return True
