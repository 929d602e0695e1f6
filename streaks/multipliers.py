"""THE streak multiplier table (the sketch had two that disagreed; this is the only one)."""

from __future__ import annotations

from decimal import Decimal

# (minimum current daily streak, multiplier), highest first.
STREAK_MULTIPLIERS: tuple[tuple[int, Decimal], ...] = (
    (30, Decimal("3.0")),
    (14, Decimal("2.5")),
    (7, Decimal("2.0")),
    (3, Decimal("1.5")),
)


def streak_multiplier(current: int) -> Decimal:
    for minimum, multiplier in STREAK_MULTIPLIERS:
        if current >= minimum:
            return multiplier
    return Decimal("1")
