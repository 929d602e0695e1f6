"""Two-level cache (the sketch's MissionCacheService, made exact): L1 is a small dict in
each process with a short TTL, L2 is the Django cache (Redis). Used for a player's current
missions, the hub's and the missions API's main read.

Exactness comes from versioned keys, not from deleting (the sketch's `DEL progress:123:*`
deleted nothing, Redis DEL takes no pattern). Every read first fetches three version
tokens in one round trip — the player's, the all-players one and the templates' — and
looks only under the key they name. Every write to a player's missions replaces that
player's token after its commit (`player_cache_bump`); bulk writes that touch many players
replace the all-players token (`player_cache_bump_all`); template writes replace the
templates' token. A token is random, never a counter: a token lost with Redis (eviction,
restart) is replaced by a fresh one and can never point at an old entry again.

A read that starts after a write returned sees the new token, so it is never stale. A read
racing the write may store the old rows under the old token; nobody reads that key again.
L1 therefore needs no invalidation across processes: a process's L1 entry for an old token
is simply never asked for. Redis down: every read goes to the database.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache as l2
from django.db import transaction
from django.db.models import Prefetch, Q

from . import metrics
from .models import ActiveMission, MissionProgress, MissionState, PeriodType

logger = logging.getLogger(__name__)
T = TypeVar("T")

ALL_PLAYERS = "all"
TEMPLATES = "templates"


class TwoLevelCache:
    """L1 (this process, `l1_seconds`, at most `l1_entries`) over L2 (the Django cache)."""

    def __init__(self, name: str, *, l1_seconds: float, l1_entries: int, l2_seconds: int):
        self.name = name
        self.l1_seconds = l1_seconds
        self.l1_entries = l1_entries
        self.l2_seconds = l2_seconds
        self._l1: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._l1.get(key)
            if hit is not None and hit[0] > now:
                self._l1.move_to_end(key)
                metrics.cache_lookup(self.name, "l1")
                return hit[1]  # type: ignore[no-any-return]
        try:
            value = l2.get(key)
        except Exception:
            value = None
        if value is not None:
            metrics.cache_lookup(self.name, "l2")
        else:
            metrics.cache_lookup(self.name, "miss")
            value = load()
            with contextlib.suppress(Exception):
                l2.set(key, value, self.l2_seconds)
        self._remember(key, value, now)
        return value  # type: ignore[no-any-return]

    def put(self, key: str, value: Any) -> None:
        with contextlib.suppress(Exception):
            l2.set(key, value, self.l2_seconds)
        self._remember(key, value, time.monotonic())

    def _remember(self, key: str, value: Any, now: float) -> None:
        with self._lock:
            self._l1[key] = (now + self.l1_seconds, value)
            self._l1.move_to_end(key)
            while len(self._l1) > self.l1_entries:
                self._l1.popitem(last=False)

    def clear_local(self) -> None:
        with self._lock:
            self._l1.clear()


# -- version tokens ----------------------------------------------------------------------


def _token_key(name: str | int) -> str:
    return f"missions:cache-version:{name}"


def version_tokens(names: Sequence[str | int]) -> list[str] | None:
    """The current token of each name (one round trip); None when the cache is down."""
    keys = [_token_key(n) for n in names]
    try:
        found = l2.get_many(keys)
        for key in keys:
            if key not in found:
                # First read since a bump was lost: agree on one fresh token (add, not set).
                l2.add(key, uuid.uuid4().hex, None)
                found[key] = l2.get(key)
    except Exception:
        return None
    if any(found.get(k) is None for k in keys):
        return None
    return [str(found[k]) for k in keys]


def _bump_now(names: Iterable[str | int]) -> None:
    tokens = {_token_key(n): uuid.uuid4().hex for n in names}
    if not tokens:
        return
    try:
        l2.set_many(tokens, None)
    except Exception:
        # The cache is down, so nothing can be read from it either; when it comes back its
        # entries may be old: L2_SECONDS bounds that, and the error is counted.
        logger.warning("could not bump %s cache versions", len(tokens), exc_info=True)
        metrics.error_recorded("cache_bump_failed", "warning")


def _bump(names: list[str | int]) -> None:
    """Now, so a read inside this transaction (it sees its own writes) is not served old rows,
    and again after the commit, so a read that raced the commit and stored old rows under the
    first token is never served again."""
    _bump_now(names)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _bump_now(names))


def player_cache_bump(*, user_ids: Iterable[int]) -> None:
    """Call with every write to these players' missions: their next read loads from the DB."""
    ids: list[str | int] = sorted({int(u) for u in user_ids})
    if ids:
        _bump(ids)


def player_cache_bump_all() -> None:
    """Call with a bulk write (rollover, expiry): every player's next read loads from the DB."""
    _bump([ALL_PLAYERS])


def templates_cache_bump() -> None:
    _bump([TEMPLATES])


# -- a player's current missions -----------------------------------------------------------

PLAYER_MISSIONS = TwoLevelCache(
    "player_missions",
    l1_seconds=5,
    l1_entries=10_000,
    l2_seconds=600,
)
_PERIOD_INDEX = {value: i for i, value in enumerate(PeriodType.values)}


def _grace() -> timedelta:
    return timedelta(hours=settings.MISSIONS_CLAIM_GRACE_HOURS)


def _load_current(user_id: int, now: datetime) -> list[ActiveMission]:
    """Every mission that can be current at `now` or later (the read filters by its clock)."""
    return list(
        ActiveMission.objects.filter(user_id=user_id)
        .filter(Q(period_end__isnull=True) | Q(period_end__gt=now - _grace()))
        .select_related("template")
        .prefetch_related(Prefetch("progress", queryset=MissionProgress.objects.order_by("id")))
    )


def _is_current(mission: ActiveMission, now: datetime) -> bool:
    """What selectors.player_missions(current_only=True) selects, in Python."""
    if mission.period_start > now:
        return False
    end = mission.period_end
    return (
        end is None
        or end > now
        or (mission.state == MissionState.COMPLETED and end > now - _grace())
    )


def _order(mission: ActiveMission) -> tuple[int, float, str]:
    return (
        _PERIOD_INDEX.get(mission.period_type, len(_PERIOD_INDEX)),
        -mission.period_start.timestamp(),
        mission.template.key,
    )


def player_current_missions(
    *,
    user_id: int,
    now: datetime,
    period_type: str | None = None,
    states: list[str] | None = None,
) -> list[ActiveMission]:
    """The player's current missions, in the order of selectors.player_missions, from the
    cache when settings.MISSIONS_CACHE is on. The objects are shared: read them only."""
    tokens = version_tokens([user_id, ALL_PLAYERS, TEMPLATES]) if settings.MISSIONS_CACHE else None
    if tokens is None:
        snapshot = _load_current(user_id, now)
    else:
        key = f"missions:player:{user_id}:" + ":".join(tokens)
        snapshot = PLAYER_MISSIONS.get(key, lambda: _load_current(user_id, now))
    chosen = [
        m
        for m in snapshot
        if _is_current(m, now)
        and (period_type is None or m.period_type == period_type)
        and (states is None or m.state in states)
    ]
    return sorted(chosen, key=_order)


def player_cache_warm(*, user_id: int, now: datetime) -> None:
    """At login: load the player's missions into L2 and this process's L1."""
    if not settings.MISSIONS_CACHE:
        return
    tokens = version_tokens([user_id, ALL_PLAYERS, TEMPLATES])
    if tokens is not None:
        key = f"missions:player:{user_id}:" + ":".join(tokens)
        PLAYER_MISSIONS.put(key, _load_current(user_id, now))
