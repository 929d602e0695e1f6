"""Spending inventory items (granting them goes through `rewards_grant`)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from ..models import InventoryItem, Item


def inventory_available(*, user_id: int, item_key: str, lock: bool = False) -> int:
    qs = InventoryItem.objects.filter(user_id=user_id, item__key=item_key)
    if lock:
        qs = qs.select_for_update(of=("self",))
    row = qs.only("qty").first()
    return row.qty if row else 0


def inventory_consume(*, user_id: int, item_key: str, qty: int = 1) -> bool:
    """Take `qty` of an item from the player; False (and nothing taken) if they have fewer.

    A conditional UPDATE, so two concurrent spends can never take the same item twice.
    """
    if qty < 1:
        raise ValueError("qty must be ≥ 1")
    item_id = Item.objects.filter(key=item_key).values_list("id", flat=True).first()
    if item_id is None:
        return False
    with transaction.atomic():
        # Filter on the row's own columns (no join) so Postgres re-checks qty after a wait.
        taken = InventoryItem.objects.filter(user_id=user_id, item_id=item_id, qty__gte=qty).update(
            qty=F("qty") - qty
        )
    return taken == 1
