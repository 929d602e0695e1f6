"""count: the number of matching events, or the sum of their `field`; done at the target."""

from .base import Evaluator


class CountEvaluator(Evaluator):
    type = "count"
