"""unique: the number of distinct values of `field` (5 different forums); done at the target.

Values are rows of ProgressValue (one insert per new value), never a growing JSON blob.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .base import Evaluator, EventRecord, ProgressState
from .matching import value_key


class UniqueEvaluator(Evaluator):
    type = "unique"

    def aggregate(
        self, progress: ProgressState, requirement: Mapping[str, Any], event: EventRecord
    ) -> bool:
        key = value_key(event.data.get(str(requirement.get("field"))))
        if key is None or key in progress.values:
            return False
        # `values` may hold only the values relevant to this batch (progress.py loads no
        # more), so the count moves by one per new value rather than being len(values).
        progress.values.add(key)
        progress.new_values.add(key)
        progress.current += Decimal(1)
        return True
