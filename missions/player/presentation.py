"""Display helpers for the hub's server-rendered cards (no business logic here)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

# The SVG progress ring: r=26 → circumference 2πr. The JS uses the same numbers.
RING_RADIUS = 26
RING_CIRCUMFERENCE = round(2 * math.pi * RING_RADIUS, 3)

ICONS = {
    "bolt": "⚡", "butterfly": "🦋", "calendar": "📅", "camera": "📷", "cart": "🛒",
    "chat": "💬", "cloud": "🌧️", "coins": "🪙", "compass": "🧭", "crown": "👑",
    "flame": "🔥", "heart": "❤️", "layers": "🧱", "medal": "🏅", "pen": "✍️",
    "shield": "🛡️", "snowflake": "❄️", "star": "⭐", "swap": "🔁", "thread": "🧵",
    "trophy": "🏆", "wave": "👋",
}  # fmt: skip
DEFAULT_ICON = "🎯"

# One name per period type, used by the hub's filters, the cards and the "next" line.
PERIOD_LABELS = {
    "daily": "Daily",
    "weekly": "Weekly",
    "monthly": "Monthly",
    "special": "Special",
    "perpetual": "Ongoing",
}
# Where a card goes on the hub: claimable first, then in progress; the rest fold into "Done".
STATE_ORDER = {"completed": 0, "active": 1}
DONE_STATES = ("claimed", "expired", "failed")


def icon_glyph(name: str | None) -> str:
    return ICONS.get(name or "", DEFAULT_ICON)


def ring_offset(percentage: int) -> float:
    return round(RING_CIRCUMFERENCE * (100 - max(0, min(100, percentage))) / 100, 3)


def time_left(end: datetime | None, now: datetime) -> str:
    """`5h 12m left`; the hub's JS keeps it ticking with the same wording."""
    if end is None:
        return "No time limit"
    seconds = int((end - now).total_seconds())
    if seconds <= 0:
        return "Ended"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h left"
    if hours:
        return f"{hours}h {minutes}m left"
    return f"{max(minutes, 1)}m left"


def countdown(end: datetime | None, now: datetime) -> str:
    """`6h 12m` until `end` (the hub's JS ticks it with the same wording)."""
    text = time_left(end, now)
    return text.removesuffix(" left")


def reward_chips(rewards: dict[str, Any]) -> list[str]:
    chips: list[str] = []
    if rewards.get("xp"):
        chips.append(f"+{rewards['xp']} XP")
    if rewards.get("dgt") not in (None, "", 0, "0"):
        chips.append(f"+{rewards['dgt']} DGT")
    for item in rewards.get("items") or []:
        chips.append(f"{item.get('qty', 1)}× {str(item.get('key', '')).replace('_', ' ')}")
    for badge in rewards.get("badges") or []:
        chips.append(f"🏅 {str(badge).replace('_', ' ')}")
    for title in rewards.get("titles") or []:
        chips.append(f"“{title}”")
    return chips


def card_context(fields: dict[str, Any], *, icon: str | None, now: datetime) -> dict[str, Any]:
    """A mission's API fields plus what the card template draws."""
    return {
        **fields,
        "icon": icon_glyph(icon),
        "ring_offset": ring_offset(fields["percentage"]),
        "ring_circumference": RING_CIRCUMFERENCE,
        "time_left": time_left(fields["period_end"], now),
        "period_label": PERIOD_LABELS.get(fields["period_type"], fields["period_type"]),
        "reward_chips": reward_chips(fields["rewards"]),
    }
