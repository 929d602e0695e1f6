"""The API's JSON parser and renderer: limits on what comes in, and output that always
encodes (an echoed lone surrogate became a 500)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer

from .json_limits import JsonLimitExceeded, json_loads_limited


class JsonTooDeep(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "too_deep"


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def view_body_limit(view: Any) -> int:
    """A view's own `max_body_bytes()` (the events batch), else API_MAX_BODY_BYTES."""
    own = getattr(view, "max_body_bytes", None)
    return int(own()) if callable(own) else int(settings.API_MAX_BODY_BYTES)


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser with the size and depth limits of `missions.json_limits`."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        context = parser_context or {}
        limit = view_body_limit(context.get("view"))
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise BodyTooLarge(f"the body is over {limit} bytes, the limit for this endpoint")
        encoding = context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - the body is not {encoding} text") from exc
        try:
            return json_loads_limited(text, max_bytes=limit, what="the body")
        except JsonLimitExceeded as exc:
            raise JsonTooDeep(str(exc)) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


class SafeJSONRenderer(JSONRenderer):
    """Falls back to ASCII escapes when the data holds text UTF-8 cannot encode (a lone
    surrogate echoed from the input), instead of failing the response."""

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):  # type: ignore[no-untyped-def]
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return _AsciiJSONRenderer().render(data, accepted_media_type, renderer_context)


class _AsciiJSONRenderer(JSONRenderer):
    ensure_ascii = True
