"""combo: several requirements (each a count), all must be met. With `metadata.ordered`, a
requirement only counts once every requirement before it is met (order: `metadata.order`,
else the stored order)."""

from __future__ import annotations

from .base import Evaluator, EventRecord, MissionRun, ordered_keys


class ComboEvaluator(Evaluator):
    type = "combo"

    def counts(self, run: MissionRun, key: str, event: EventRecord) -> bool:
        if not run.metadata.get("ordered"):
            return True
        for earlier in ordered_keys(run):
            if earlier == key:
                return True
            if not run.progress[earlier].done:
                return False
        return True
