from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.core.cache import cache
from django.db import transaction

from ..cache import templates_cache_bump
from ..errors import TemplateInvalid
from ..models import MissionTemplate
from ..validation import validate_template

logger = logging.getLogger(__name__)

TEMPLATES_VERSION_KEY = "missions:templates-version"


def templates_version() -> int:
    """Bumped whenever a template changes, so cached assignment checks are redone."""
    return int(cache.get_or_set(TEMPLATES_VERSION_KEY, 1, timeout=None) or 1)


def templates_changed() -> None:
    templates_cache_bump()  # the admin calls this one alone
    try:
        cache.incr(TEMPLATES_VERSION_KEY)
    except ValueError:
        cache.set(TEMPLATES_VERSION_KEY, 2, timeout=None)
    except Exception:  # Redis down: nothing is cached then either; the write itself stands
        logger.warning("could not bump the templates version in the cache", exc_info=True)


def template_upsert(*, data: dict[str, Any]) -> tuple[MissionTemplate, bool]:
    """Validate and create or update one template by key. Returns (template, created)."""
    cleaned = validate_template(data)
    key = cleaned.pop("key")
    with transaction.atomic():
        template, created = MissionTemplate.objects.update_or_create(key=key, defaults=cleaned)
        templates_cache_bump()  # now and at the commit (missions/cache.py)
    transaction.on_commit(templates_changed)
    return template, created


def templates_load(*, items: Any) -> tuple[int, int]:
    """Load a list of templates, all or nothing. Returns (created, updated).

    Raises TemplateInvalid with errors keyed `<index>:<key>` → {field: [messages]}.
    """
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        raise TemplateInvalid(
            "the file must hold a JSON list of templates", errors={"file": ["must be a JSON list"]}
        )
    problems: dict[str, Any] = {}
    cleaned_all = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        label = f"#{index}"
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            label = f"#{index} {item['key']}"
            if item["key"] in seen:
                problems[label] = {"key": [f"repeats the key of template #{seen[item['key']]}"]}
                continue
            seen[item["key"]] = index
        try:
            cleaned_all.append(validate_template(item))
        except TemplateInvalid as exc:
            problems[label] = exc.errors
    if problems:
        raise TemplateInvalid(
            f"{len(problems)} of {len(items)} templates are invalid; nothing was loaded",
            errors=problems,
        )
    created = updated = 0
    with transaction.atomic():
        for cleaned in cleaned_all:
            key = cleaned.pop("key")
            _, was_created = MissionTemplate.objects.update_or_create(key=key, defaults=cleaned)
            created += int(was_created)
            updated += int(not was_created)
        templates_cache_bump()
    transaction.on_commit(templates_changed)
    return created, updated
