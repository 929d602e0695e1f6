"""Redis as a shortcut that can fail: socket timeouts plus a circuit breaker (pybreaker).

Two breakers per Redis address, one for the cache (django-redis) and one for the channel
layer (channels-redis). After REDIS_BREAKER_FAILURES failed calls in a row a breaker opens:
calls fail at once without touching the network, and after REDIS_BREAKER_RESET_SECONDS one
call tries again (with any call that starts while it is in flight). So a hung Redis costs the
first few requests one socket timeout each and the rest nothing; the outage is logged when
the breaker opens and when it closes, not once per call. Every call and state change is
counted in `mission_redis_breaker_total` (by use and event: failed, refused, opened,
reopened, closed), so what an outage cost is measured exactly.

What a failed call means to its caller:
- cache (GuardedRedisCache with IGNORE_EXCEPTIONS): a miss. `get` → None, `get_many` → {},
  `add`/`set` → False/None. Callers that must tell "absent" from "unknown" (presence) use
  `cache_get_many_or_raise`.
- channel layer (`layer_call`): raises LayerUnavailable at once or after the timeout.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pybreaker
from django.conf import settings
from django.core.cache import cache as default_cache
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from missions import metrics

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What "Redis is not answering" looks like, from redis-py (sync and asyncio) and the OS.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    ConnectionInterrupted,
    RedisConnectionError,
    RedisTimeoutError,
    socket.timeout,
    TimeoutError,
    asyncio.TimeoutError,
    ConnectionError,
    OSError,
)
# A pooled connection that a restarted Redis closed: worth one immediate retry.
STALE_CONNECTION: tuple[type[BaseException], ...] = (RedisConnectionError, ConnectionResetError)
# Client methods that never touch the network: not worth failing fast.
_LOCAL_METHODS = frozenset(
    {"make_key", "make_pattern", "encode", "decode", "reverse_key", "close", "do_close_clients"}
)


class LayerUnavailable(Exception):
    """The channel layer's Redis did not answer (or its breaker is open)."""


def _is_not_an_outage(exc: BaseException) -> bool:
    # A ValueError from incr on a missing key is an answer, not an outage.
    return not isinstance(exc, UNAVAILABLE)


class _LogOutages(pybreaker.CircuitBreakerListener):
    """One log line when a Redis outage starts (closed → open) and one when it ends; every
    failed call and state change counted in mission_redis_breaker_total{use}."""

    def __init__(self, use: str) -> None:
        self.use = use
        self.last_error: BaseException | None = None

    def failure(self, cb: pybreaker.CircuitBreaker, exc: BaseException) -> None:
        # Only calls that reached Redis get here: a refused call fails before the listeners.
        self.last_error = exc
        metrics.redis_breaker_event(self.use, "failed")

    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        old = getattr(old_state, "name", None)
        new = getattr(new_state, "name", None)
        if new == pybreaker.STATE_OPEN and old == pybreaker.STATE_HALF_OPEN:
            metrics.redis_breaker_event(self.use, "reopened")
        elif new == pybreaker.STATE_OPEN and old == pybreaker.STATE_CLOSED:
            metrics.redis_breaker_event(self.use, "opened")
            error = self.last_error
            logger.error(
                "%s unavailable (%s: %s): failing fast, trying again every %s s",
                cb.name,
                type(error).__name__ if error else "error",
                error,
                cb.reset_timeout,
            )
        elif new == pybreaker.STATE_CLOSED and old is not None and old != pybreaker.STATE_CLOSED:
            metrics.redis_breaker_event(self.use, "closed")
            logger.warning("%s available again", cb.name)


_breakers: dict[tuple[str, str], pybreaker.CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker(kind: str, address: str) -> pybreaker.CircuitBreaker:
    """The process-wide breaker for one kind of use ("cache", "channel layer") of one Redis."""
    key = (kind, address)
    found = _breakers.get(key)
    if found is not None:
        return found
    with _breakers_lock:
        if key not in _breakers:
            _breakers[key] = pybreaker.CircuitBreaker(
                fail_max=settings.REDIS_BREAKER_FAILURES,
                reset_timeout=settings.REDIS_BREAKER_RESET_SECONDS,
                exclude=[_is_not_an_outage],
                listeners=[_LogOutages(kind.replace(" ", "_"))],
                name=f"Redis {kind} at {_redact(address)}",
            )
        return _breakers[key]


def reset_breakers() -> None:
    """Close every breaker (tests that restore a Redis they stopped)."""
    for item in list(_breakers.values()):
        item.close()


def _redact(address: str) -> str:
    # redis://:password@host:port/db → redis://host:port/db
    if "@" in address:
        scheme, _, rest = address.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}"
    return address


def guarded_call(cb: pybreaker.CircuitBreaker, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    """fn(*args, **kw) through the breaker; any outage comes out as ConnectionInterrupted."""
    reached = False
    try:
        # `calling()` holds the breaker's lock only to check the state, not during the call:
        # one slow call must not queue every other thread behind it.
        with cb.calling():
            reached = True
            return fn(*args, **kw)
    except pybreaker.CircuitBreakerError as exc:
        _count_refused(cb, reached)
        raise ConnectionInterrupted(connection=None) from exc
    except ConnectionInterrupted:
        raise
    except UNAVAILABLE as exc:
        raise ConnectionInterrupted(connection=None) from exc


def _count_refused(cb: pybreaker.CircuitBreaker, reached: bool) -> None:
    # A CircuitBreakerError from a call that reached Redis is the one that opened the
    # breaker (counted as failed); only one that never got past the open breaker is refused.
    if not reached:
        for listener in cb.listeners:
            if isinstance(listener, _LogOutages):
                metrics.redis_breaker_event(listener.use, "refused")


class _GuardedClient:
    """A django-redis client whose network calls go through a breaker."""

    def __init__(self, inner: Any, cb: pybreaker.CircuitBreaker) -> None:
        self._inner = inner
        self._breaker = cb

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or name in _LOCAL_METHODS or not callable(attr):
            return attr

        def guarded(*args: Any, **kwargs: Any) -> Any:
            return guarded_call(self._breaker, attr, *args, **kwargs)

        return guarded


class GuardedRedisCache(RedisCache):
    """django-redis' cache with a circuit breaker around every call to Redis."""

    @property
    def client(self) -> Any:
        guarded: Any = self.__dict__.get("_client")
        if guarded is None:
            inner = self._client_cls(self._server, self._params, self)
            address = self._server if isinstance(self._server, str) else ",".join(self._server)
            guarded = _GuardedClient(inner, breaker("cache", address))
            self.__dict__["_client"] = guarded
        return guarded


def cache_call_or_raise(method: str, *args: Any, cache: Any = None, **kwargs: Any) -> Any:
    """A cache call that raises ConnectionInterrupted when Redis does not answer, where the
    guarded cache would read as a miss (callers that must tell "absent" from "unknown")."""
    cache = cache if cache is not None else default_cache
    client = getattr(cache, "client", None)
    if isinstance(client, _GuardedClient):
        return getattr(client, method)(*args, **kwargs)
    return getattr(cache, method)(*args, **kwargs)


def cache_get_many_or_raise(keys: list[str], cache: Any = None) -> dict[str, Any]:
    return dict(cache_call_or_raise("get_many", keys, cache=cache))


def outage_cause(exc: BaseException) -> str:
    """What a ConnectionInterrupted stands for, in a few words."""
    cause = exc.__cause__ or exc
    if isinstance(cause, pybreaker.CircuitBreakerError):
        return "circuit open (Redis failed just before)"
    return type(cause).__name__


def _layer_address(layer: Any) -> str:
    hosts = getattr(layer, "hosts", None) or [{}]
    first = hosts[0] if isinstance(hosts[0], dict) else {}
    return str(first.get("address") or first)


async def layer_call(layer: Any, make: Callable[[], Awaitable[T]]) -> T:
    """Await one channel-layer operation (group_add, group_send, ...) through the layer's
    breaker and within REDIS_SOCKET_TIMEOUT; LayerUnavailable when Redis does not answer.

    A refused or reset connection is tried once more at once: after a Redis restart the
    layer's pool still holds connections to the old process, and the first use of each fails.
    The in-memory layer (no REDIS_URL) is called as is."""
    if not hasattr(layer, "hosts"):
        return await make()
    cb = breaker("channel layer", _layer_address(layer))

    async def once_more_if_stale() -> T:
        try:
            return await make()
        except STALE_CONNECTION:
            return await make()

    reached = False
    try:
        with cb.calling():
            reached = True
            return await asyncio.wait_for(
                once_more_if_stale(), timeout=settings.REDIS_SOCKET_TIMEOUT
            )
    except pybreaker.CircuitBreakerError as exc:
        _count_refused(cb, reached)
        raise LayerUnavailable(str(exc)) from exc
    except UNAVAILABLE as exc:
        raise LayerUnavailable(f"{type(exc).__name__}: {exc}") from exc
