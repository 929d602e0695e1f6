"""Scenarios over HTTP against the real ASGI server (uvicorn, BENCH_WORKERS workers, default 2)
with the asyncio load generator in its own process, on the scenario-1 world:

1b. 1,000-event batches over HTTP (2 clients): events/s and p50/p95/p99 per batch;
2.  one event per request from 64 clients: requests/s, p50/p99, on three request paths,
    each on its own server: the full middleware stack without group commit (the path before
    the lean door), the lean door alone (the default), the lean door with group commit;
6.  GET /api/v1/missions (token) and the hub page (session) at 100 clients: p95.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from knox.models import AuthToken

from bench.bench_ingest import MISSIONS, PLAYERS, prepare
from bench.server import asgi_server, load
from bench.world import ensure_players
from missions.models import ServiceKey
from missions.services import service_key_create

FULL = os.environ.get("BENCH_FULL") == "1"
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
SECONDS = float(os.environ.get("BENCH_HTTP_SECONDS", "30" if FULL else "15"))


def service_headers() -> dict[str, str]:
    ServiceKey.objects.filter(name="bench").delete()
    _, raw = service_key_create(name="bench")
    return {"Authorization": f"Bearer {raw}"}


def player_headers(user_ids: list[int]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Token headers and session cookies for these players."""
    User = get_user_model()
    tokens, cookies = [], []
    for user in User.objects.filter(pk__in=user_ids):
        _, token = AuthToken.objects.create(user=user)  # knox: the raw key is shown once
        tokens.append({"Authorization": f"Token {token}"})
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        # The model backend, whatever else is listed first (django-axes' backend has no
        # get_user).
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies.append({"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"})
    return tokens, cookies


# The ingest throttle counts every request in a list per window (DRF's SimpleRateThrottle):
# 3,000/minute by default would answer 429 within seconds here. Per second, with room.
BENCH_ENV = {"THROTTLE_INGEST": "1000000/s"}
# Scenario 2 on three request paths, each on its own server, one after the other.
SINGLE_EVENT_PATHS = {
    "full_stack": {"SERVICE_API_LEAN": "false", "MISSIONS_INGEST_GROUP_MAX_EVENTS": "0"},
    "lean": {"SERVICE_API_LEAN": "true", "MISSIONS_INGEST_GROUP_MAX_EVENTS": "0"},
    "lean_group_commit": {"SERVICE_API_LEAN": "true", "MISSIONS_INGEST_GROUP_MAX_EVENTS": "10"},
}


def run() -> dict[str, Any]:
    players = ensure_players(PLAYERS)
    prepare(players, MISSIONS)
    service = service_headers()
    tokens, cookies = player_headers(players[:100])
    common = {"users": players, "warmup": 3}
    single_paths = {}
    for name, env in SINGLE_EVENT_PATHS.items():
        with asgi_server(WORKERS, {**BENCH_ENV, **env}) as base:
            single_paths[name] = load(
                {**common, "base": base, "mode": "events", "path": "/api/v1/events",
                 "headers": [service], "clients": 64, "batch": 1, "seconds": SECONDS,
                 "tag": f"hs-{name}"}
            )  # fmt: skip
    with asgi_server(WORKERS, BENCH_ENV) as base:
        common["base"] = base
        batched = load(
            {**common, "mode": "events", "path": "/api/v1/events", "headers": [service],
             "clients": 2, "batch": 1000, "seconds": 2 * SECONDS, "warmup": 1, "tag": "hb"}
        )  # fmt: skip
        missions_api = load(
            {**common, "mode": "get", "path": "/api/v1/missions", "headers": tokens,
             "clients": 100, "seconds": SECONDS}
        )  # fmt: skip
        hub = load(
            {**common, "mode": "get", "path": "/", "headers": cookies,
             "clients": 100, "seconds": SECONDS}
        )  # fmt: skip
    single = single_paths["lean"]
    return {
        "name": "http",
        "unit": "requests/s (one event per request, 64 clients)",
        "value": single["ok_rps"],
        "target": 1500,
        "workers": WORKERS,
        "single_event_64_clients": single,
        "single_event_by_request_path": single_paths,
        "batched_1000_over_http": batched,
        "missions_api_100_clients": missions_api,
        "hub_page_100_clients": hub,
    }
