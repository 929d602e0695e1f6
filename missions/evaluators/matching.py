"""Requirement matching: the `where` filters of SPEC.md (eq, ne, gt, gte, lt, lte, in, contains).

A missing data field never matches. Numbers compare as Decimal, so "10.5" and 10.5 agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any


def as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    a, b = as_decimal(left), as_decimal(right)
    if a is not None and b is not None and not (isinstance(left, str) and isinstance(right, str)):
        return a == b
    return bool(left == right)


def _compare(op: str, value: Any, operand: Any) -> bool:
    if op == "eq":
        return _equal(value, operand)
    if op == "ne":
        return not _equal(value, operand)
    if op == "in":
        return isinstance(operand, list) and any(_equal(value, option) for option in operand)
    if op == "contains":
        if isinstance(value, str):
            return str(operand) in value
        if isinstance(value, list):
            return any(_equal(entry, operand) for entry in value)
        return False
    a, b = as_decimal(value), as_decimal(operand)
    if a is None or b is None:
        return False
    if op == "gt":
        return a > b
    if op == "gte":
        return a >= b
    if op == "lt":
        return a < b
    if op == "lte":
        return a <= b
    return False


def matches_where(where: Mapping[str, Mapping[str, Any]] | None, data: Mapping[str, Any]) -> bool:
    """All fields must match, and every operator of a field."""
    if not where:
        return True
    for field, condition in where.items():
        if field not in data:
            return False
        value = data[field]
        if not all(_compare(op, value, operand) for op, operand in condition.items()):
            return False
    return True


def requirement_matches(
    requirement: Mapping[str, Any], action: str, data: Mapping[str, Any]
) -> bool:
    return requirement.get("action") == action and matches_where(requirement.get("where"), data)


def value_key(value: Any) -> str | None:
    """The canonical text of a value for distinct counting (numbers normalised: 3 == 3.0)."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    number = as_decimal(value) if not isinstance(value, str) else None
    if number is not None:
        normalized = number.normalize()
        return format(normalized, "f")
    text = str(value)
    return text[:200]
