"""Limits on JSON from outside: how deep it nests and how large it is.

Python's parser and every recursive walk over its result (validators, `json.dumps`) hit the
interpreter's recursion limit on deeply nested input, which surfaced as a 500 or a traceback.
Every JSON input (request bodies, event `data`, template JSON from the admin, a file or the
API) goes through here first, so input past a limit is a 400 that names the limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import orjson
from django import forms
from django.conf import settings
from django.db import models
from django.forms.fields import InvalidJSONInput


class JsonLimitExceeded(ValueError):
    """Input over a limit; the message names the limit."""


def json_max_depth() -> int:
    return int(settings.JSON_MAX_DEPTH)


def json_depth_problem(value: Any, *, max_depth: int | None = None) -> str | None:
    """`nests deeper than 20 levels (the limit)` or None. Iterative: no recursion limit."""
    limit = max_depth if max_depth is not None else json_max_depth()
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            return f"nests deeper than {limit} levels (the limit)"
        stack.extend((child, depth + 1) for child in children)
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (numbers must be finite)")


_NOT_FAST = object()
# A run of 19 digits may be an integer past 64 bits, which orjson turns into a float where
# Python's parser keeps the int.
_LONG_NUMBER = re.compile(r"\d{19}")
_LONG_NUMBER_BYTES = re.compile(rb"\d{19}")


def _fast_loads(text: str | bytes) -> Any:
    """orjson's answer when it is the same as Python's parser's, else _NOT_FAST.

    orjson refuses what Python's parser accepts or answers differently (lone surrogates,
    NaN and Infinity, numbers past a double, a BOM, nesting past 1,024) and reads integers
    past 64 bits as floats; those bodies take the slow path, so every answer and every
    error stays exactly what it was."""
    pattern = _LONG_NUMBER_BYTES if isinstance(text, bytes) else _LONG_NUMBER
    if pattern.search(text):  # type: ignore[arg-type]
        return _NOT_FAST
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _NOT_FAST


def json_loads_limited(
    text: str | bytes, *, max_bytes: int, max_depth: int | None = None, what: str = "the JSON"
) -> Any:
    """Parse JSON no larger than `max_bytes` and no deeper than the depth limit.

    Raises JsonLimitExceeded naming the limit, or ValueError for bad JSON (NaN and
    Infinity included)."""
    size = len(text.encode() if isinstance(text, str) else text)
    if size > max_bytes:
        raise JsonLimitExceeded(f"{what} is {size} bytes; the limit is {max_bytes}")
    limit = max_depth if max_depth is not None else json_max_depth()
    value = _fast_loads(text)
    if value is _NOT_FAST:
        try:
            value = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise JsonLimitExceeded(
                f"{what} nests deeper than {limit} levels (the limit)"
            ) from None
    problem = json_depth_problem(value, max_depth=limit)
    if problem:
        raise JsonLimitExceeded(f"{what} {problem}")
    return value


class LimitedJSONMixin:
    """For a form field that parses JSON text: the same limits (Django's own field let a
    deeply nested value through to a RecursionError)."""

    empty_values: Any
    disabled: bool

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value not in self.empty_values and not self.disabled:
            try:
                json_loads_limited(value, max_bytes=settings.API_MAX_BODY_BYTES, what="this JSON")
            except JsonLimitExceeded as exc:
                raise forms.ValidationError(str(exc), code="json_limit") from None
            except ValueError:
                pass  # Django's own field reports invalid JSON
        return super().to_python(value)  # type: ignore[misc]

    def bound_data(self, data: Any, initial: Any) -> Any:
        if isinstance(data, str) and not self.disabled:
            try:
                json_loads_limited(data, max_bytes=settings.API_MAX_BODY_BYTES)
            except JsonLimitExceeded:
                return InvalidJSONInput(data)  # shown back as typed
            except ValueError:
                pass
        return super().bound_data(data, initial)  # type: ignore[misc]


class LimitedJSONFormField(LimitedJSONMixin, forms.JSONField):
    """The admin's JSON text boxes, with the limits."""


# For ModelAdmin.formfield_overrides.
LIMITED_JSON_FORMFIELD: Mapping[type[models.Field[Any, Any]], Mapping[str, Any]] = {
    models.JSONField: {"form_class": LimitedJSONFormField}
}
