"""The level curve: reaching level L takes STEP * (L-1) * L / 2 XP in total.

With the default step of 100: level 2 at 100 XP, 3 at 300, 4 at 600, 5 at 1,000.
"""

from __future__ import annotations

from django.conf import settings


def xp_for_level(level: int) -> int:
    """Total XP needed to reach `level` (level 1 needs none)."""
    step = int(settings.REWARDS_LEVEL_XP_STEP)
    return step * (level - 1) * level // 2


def level_for_xp(xp: int) -> int:
    top = int(settings.REWARDS_MAX_LEVEL)
    level = 1
    # At most REWARDS_MAX_LEVEL steps; cheaper to read than the quadratic formula's rounding.
    while level < top and xp >= xp_for_level(level + 1):
        level += 1
    return level


def next_level_xp(level: int) -> int | None:
    """XP total of the next level, or None at the top of the curve."""
    if level >= int(settings.REWARDS_MAX_LEVEL):
        return None
    return xp_for_level(level + 1)


def level_progress(level: int, xp: int) -> dict[str, int | None]:
    """Where the player stands inside their level, in XP of that level only, so a bar and its
    label agree: `into` of `span` XP done, `percent` = into * 100 // span (100 at the top).

    `start_xp` is the level's total-XP floor. A level never goes down, so XP can sit below
    the floor (demo players start above their XP's level): `into` is then 0.
    """
    start = xp_for_level(level)
    end = next_level_xp(level)
    if end is None:
        return {"start_xp": start, "next_level_xp": None, "into": 0, "span": 0, "percent": 100}
    span = max(1, end - start)
    into = max(0, min(span, xp - start))
    return {
        "start_xp": start,
        "next_level_xp": end,
        "into": into,
        "span": span,
        "percent": into * 100 // span,
    }
