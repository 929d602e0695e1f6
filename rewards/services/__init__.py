"""Every write of the rewards app goes through a function here (keyword-only, typed)."""

from .auto_grant import rewards_auto_grant_unclaimed
from .claims import (
    ClaimAllResult,
    ClaimResult,
    mission_auto_grant,
    mission_claim,
    missions_claim_all,
)
from .competitive import FinalizeReport, competitive_finalize_due
from .inventory import inventory_available, inventory_consume
from .ledger import AlreadyGranted, GrantResult, rewards_grant
from .meta import meta_achievements_check

__all__ = [
    "AlreadyGranted",
    "ClaimAllResult",
    "ClaimResult",
    "FinalizeReport",
    "competitive_finalize_due",
    "GrantResult",
    "inventory_available",
    "inventory_consume",
    "meta_achievements_check",
    "mission_auto_grant",
    "mission_claim",
    "missions_claim_all",
    "rewards_auto_grant_unclaimed",
    "rewards_grant",
]
