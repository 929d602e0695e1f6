"""Operator tooling that drives the whole product: the lifecycle simulation (`make simulate`)."""
