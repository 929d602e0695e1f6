"""Template filters of the hub pages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from ..selectors import format_number

register = template.Library()


@register.filter
def amount(value: Any) -> Any:
    """`"10.50000000"` → `10.5`, `"3.00000000"` → `3` (exact: through Decimal, never float)."""
    try:
        return format_number(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return value
