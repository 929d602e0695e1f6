"""Every write of the rewards app goes through a function here (keyword-only, typed)."""

from .auto_grant import missions_expire_abandoned, rewards_auto_grant_unclaimed
from .claims import (
    ClaimAllResult,
    ClaimResult,
    mission_auto_grant,
    mission_claim,
    missions_claim_all,
)
from .inventory import inventory_available, inventory_consume
from .ledger import AlreadyGranted, GrantResult, rewards_grant
from .meta import meta_achievements_check

__all__ = [
    "AlreadyGranted",
    "ClaimAllResult",
    "ClaimResult",
    "GrantResult",
    "inventory_available",
    "inventory_consume",
    "meta_achievements_check",
    "mission_auto_grant",
    "mission_claim",
    "missions_claim_all",
    "missions_expire_abandoned",
    "rewards_auto_grant_unclaimed",
    "rewards_grant",
]
