"""The one place that grants rewards: XP and DGT into the ledger, items, badges, titles.

Claims, auto-grants, meta-achievements and (later) competitive tier payouts all call
`rewards_grant`; nothing else writes LedgerEntry, Balance, InventoryItem, UserBadge or
UserTitle rows (except `inventory_consume`, which spends items).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from missions import metrics
from missions.errors import Conflict, ValidationFailed
from missions.models import PlayerProfile

from ..levels import level_for_xp
from ..models import (
    Badge,
    Balance,
    InventoryItem,
    Item,
    LedgerEntry,
    Title,
    UserBadge,
    UserTitle,
)
from ..signals import reward_granted

logger = logging.getLogger(__name__)

DGT_QUANTUM = Decimal("0.00000001")


def to_dgt(value: Any) -> Decimal:
    """A DGT amount as a Decimal with 8 places, rounded down (never a float)."""
    if isinstance(value, float):
        raise TypeError("DGT amounts are Decimal or str, never float")
    return Decimal(str(value or 0)).quantize(DGT_QUANTUM, rounding=ROUND_DOWN)


class AlreadyGranted(Conflict):
    code = "already_granted"


def dgt_str(value: Any) -> str:
    """A DGT amount as a plain decimal string with 8 places ("0.00000005", never "5E-8")."""
    return format(to_dgt(value), "f")


@dataclass
class GrantResult:
    entry: LedgerEntry
    # False when the idempotency key had already been granted: nothing changed this time.
    created: bool
    xp: int = 0
    dgt: Decimal = Decimal(0)
    level: int = 1
    items: list[dict[str, Any]] = field(default_factory=list)
    badges: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)


def _catalog(model: Any, keys: list[str]) -> dict[str, Any]:
    """Catalog rows for `keys`; a key missing from the catalog is created (and logged) so a
    template pointing at it never makes a mission unclaimable. Admins name it later."""
    found = {row.key: row for row in model.objects.filter(key__in=keys)}
    missing = [k for k in keys if k not in found]
    if missing:
        logger.warning("creating missing %s catalog entries: %s", model.__name__, missing)
        model.objects.bulk_create(
            [model(key=k, name=k.replace("_", " ").title()) for k in missing],
            ignore_conflicts=True,
        )
        found.update({row.key: row for row in model.objects.filter(key__in=missing)})
    return found


def _award(catalog: Any, awards: Any, field_name: str, user_id: int, keys: list[str]) -> list[str]:
    """Give the player the badges (or titles) they do not hold yet; returns the new keys."""
    if not keys:
        return []
    rows = _catalog(catalog, keys)
    have = set(
        awards.objects.filter(user_id=user_id, **{f"{field_name}__key__in": keys}).values_list(
            f"{field_name}__key", flat=True
        )
    )
    new = [k for k in dict.fromkeys(keys) if k not in have]
    awards.objects.bulk_create(
        [awards(user_id=user_id, **{field_name: rows[k]}) for k in new], ignore_conflicts=True
    )
    return new


def _locked_balance(user_id: int) -> Balance:
    # INSERT ... ON CONFLICT DO NOTHING, then lock: two first grants never race on creation.
    Balance.objects.bulk_create([Balance(user_id=user_id)], ignore_conflicts=True)
    return Balance.objects.select_for_update().get(user_id=user_id)


def _update_level(user_id: int, xp: int) -> int:
    """Raise the player's level to what their XP reaches; a level never goes down (demo and
    imported players may start above their XP's level)."""
    profile, _ = PlayerProfile.objects.get_or_create(user_id=user_id)
    level = max(profile.level, level_for_xp(xp))
    if level != profile.level:
        PlayerProfile.objects.filter(pk=profile.pk).update(level=level)
    return level


def rewards_grant(
    *,
    user_id: int,
    rewards: dict[str, Any],
    idempotency_key: str,
    reason: str,
    mission_id: int | None = None,
) -> GrantResult:
    """Grant `rewards` ({xp, dgt, items, badges, titles}) exactly once per idempotency key.

    Runs inside the caller's transaction (a savepoint of its own). A key already granted
    returns the first entry with created=False and changes nothing.
    """
    if not idempotency_key or not reason:
        raise ValidationFailed(
            "idempotency_key and reason are required",
            errors={"idempotency_key": "is required", "reason": "is required"},
        )
    xp = int(rewards.get("xp") or 0)
    dgt = to_dgt(rewards.get("dgt"))
    items: list[dict[str, Any]] = [
        {"key": str(i["key"]), "qty": int(i.get("qty", 1))} for i in rewards.get("items") or []
    ]
    badges = [str(k) for k in rewards.get("badges") or []]
    titles = [str(k) for k in rewards.get("titles") or []]
    if xp < 0 or dgt < 0 or any(i["qty"] < 1 for i in items):
        raise ValidationFailed(
            "rewards must not be negative", errors={"rewards": "xp, dgt and qty must be ≥ 0"}
        )

    with transaction.atomic():
        # Locking the balance first serialises every grant of this user, so the existence
        # check below cannot race with another grant of the same key.
        balance = _locked_balance(user_id)
        existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.user_id != user_id or existing.mission_id != mission_id:
                raise AlreadyGranted(
                    f"idempotency key {idempotency_key!r} belongs to another grant"
                )
            return GrantResult(entry=existing, created=False, xp=existing.xp, dgt=existing.dgt)
        try:
            with transaction.atomic():
                entry = LedgerEntry.objects.create(
                    user_id=user_id,
                    xp=xp,
                    dgt=dgt,
                    idempotency_key=idempotency_key,
                    reason=reason[:255],
                    mission_id=mission_id,
                )
        except IntegrityError as exc:
            # The key belongs to another user's entry, or the mission already has a grant
            # under a different key: a caller bug, never a second payout.
            raise AlreadyGranted(
                f"a ledger entry already exists for key {idempotency_key!r}"
                + (f" or mission {mission_id}" if mission_id is not None else "")
            ) from exc
        Balance.objects.filter(pk=balance.pk).update(xp=F("xp") + xp, dgt=F("dgt") + dgt)
        level = _update_level(user_id, balance.xp + xp)

        if items:
            catalog = _catalog(Item, [i["key"] for i in items])
            InventoryItem.objects.bulk_create(
                [InventoryItem(user_id=user_id, item=catalog[i["key"]], qty=0) for i in items],
                ignore_conflicts=True,
            )
            for i in items:
                InventoryItem.objects.filter(user_id=user_id, item=catalog[i["key"]]).update(
                    qty=F("qty") + i["qty"]
                )
        new_badges = _award(Badge, UserBadge, "badge", user_id, badges)
        new_titles = _award(Title, UserTitle, "title", user_id, titles)
        qty = sum(i["qty"] for i in items)
        transaction.on_commit(
            lambda: metrics.rewards_recorded(
                xp=xp, dgt=dgt, items=qty, badges=len(new_badges), titles=len(new_titles)
            )
        )
        result = GrantResult(
            entry=entry,
            created=True,
            xp=xp,
            dgt=dgt,
            level=level,
            items=items,
            badges=new_badges,
            titles=new_titles,
        )
        reward_granted.send(
            sender=LedgerEntry, result=result, user_id=user_id, reason=reason, mission_id=mission_id
        )
    return result
