"""Who may open what: every URL pattern of the resolver (walked, so a new URL cannot be
forgotten: it fails here until it is given a kind) and the socket, for anonymous, a player,
another player, staff, and a service key that is valid, wrong or revoked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import TemplateFactory, UserFactory

PRINCIPALS = [
    "anonymous",
    "player",
    "other player",
    "staff",
    "service key",
    "wrong service key",
    "revoked service key",
]
SERVICES = {"service key", "wrong service key", "revoked service key"}

# Every named URL of the project (admin aside) and its kind.
KINDS = {
    "healthz": "public",
    "prometheus-django-metrics": "public",  # the `rel` branch restricts /metrics (issue 8)
    "schema": "public",
    "swagger-ui": "public",
    "api-token": "public",
    "login": "public",
    "logout": "public",
    "events-ingest": "service",
    "api-missions": "player api",
    "api-mission": "player api, own object",
    "api-mission-claim": "player api, own object",
    "api-leaderboard": "player api",
    "api-me": "player api",
    "api-history": "player api",
    "api-streaks": "player api",
    "hub": "page",
    "history": "page",
    "profile": "page",
    "hub-card": "page, own object",
    "admin:login": "public",
    "admin:logout": "public",
}
# The example host platform (examples/forum on django-comments-xtd): third-party pages.
# Anyone may read and gets no 5xx; moderation is for staff only.
EXAMPLE_PREFIXES = ("forum:", "comments-")
MODERATION = {"comments-delete", "comments-approve"}
POST = {"events-ingest", "api-token", "api-mission-claim", "logout"}


def walk(patterns: list[Any], namespace: str = "", prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield (
                (f"{namespace}{pattern.name}" if pattern.name else prefix + str(pattern.pattern)),
                pattern,
            )


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    from rest_framework.authtoken.models import Token

    from missions.models import ActiveMission
    from missions.services import missions_assign_for_user
    from missions.services.service_keys import service_key_create, service_key_revoke

    template = TemplateFactory(key="matrix_post", period_type="perpetual")
    owner = UserFactory(username="owner")
    other = UserFactory(username="other")
    staff = UserFactory(username="staff", is_staff=True, is_superuser=True)
    from django.utils import timezone

    missions_assign_for_user(user_id=owner.pk, now=timezone.now())
    mission = ActiveMission.objects.get(user=owner, template=template)
    _, valid = service_key_create(name="matrix")
    revoked_key, revoked = service_key_create(name="matrix-revoked")
    service_key_revoke(key_id=revoked_key.pk)
    clients: dict[str, Client] = {}
    for name in PRINCIPALS:
        client = Client()
        user = {"player": owner, "other player": other, "staff": staff}.get(name)
        if user is not None:
            client.force_login(user)
            client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=user).key}"
        elif name in SERVICES:
            key = {"service key": valid, "wrong service key": valid[:-4] + "nope"}.get(
                name, revoked
            )
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        clients[name] = client
    return {
        "clients": clients,
        "kwargs": {
            "mission_id": mission.pk,
            "template_key": template.key,
            "object_id": "1",
            "id": "1",
            "content_type_id": 1,
            "app_label": "missions",
            "key": "x",
            "cid": 1,
            "comment_id": 1,
            "pk": 1,
            "slug": "general",
        },
    }


def expected(kind: str, principal: str) -> set[int]:
    """Statuses allowed for one principal on one kind of URL."""
    if kind == "public":
        return {200, 302, 400, 405}  # open to all; 400/405: a bare request to a form or POST
    if kind == "service":
        return {200} if principal == "service key" else {401}
    if kind.startswith("player api"):
        if principal in SERVICES or principal == "anonymous":
            return {401}
        if kind.endswith("own object") and principal != "player":
            return {404}  # someone else's mission does not exist for them
        return {200, 409}  # 409: the claim of a mission that is not complete
    if kind.startswith("page"):
        if principal in SERVICES or principal == "anonymous":
            return {302}  # to the login page
        if kind.endswith("own object") and principal != "player":
            return {404}
        return {200}
    if kind == "example":
        return set(range(200, 500))
    if kind == "moderation":
        return set(range(200, 500)) if principal == "staff" else {302, 403, 404}
    if kind == "admin":
        if principal == "staff":  # in; 403/404: a bare request (autocomplete without a field)
            return {200, 302, 403, 404}
        return {302}  # non-staff: to the admin login
    raise AssertionError(kind)


def test_every_url_pattern_has_a_kind_and_each_principal_gets_what_it_may(
    world: dict[str, Any],
) -> None:
    checked = 0
    unknown = []
    patterns = sorted(walk(get_resolver().url_patterns), key=lambda p: p[0].endswith("logout"))
    for name, pattern in patterns:  # the logouts last: they end the principals' sessions
        if name in KINDS:
            kind = KINDS[name]
        elif name.startswith("admin:") or name.startswith("admin/"):
            kind = "admin"
        elif name in MODERATION:
            kind = "moderation"
        elif name.startswith(EXAMPLE_PREFIXES):
            kind = "example"
        else:
            unknown.append(name)
            continue
        if not pattern.name:
            continue  # admin's catch-all: reached by the admin URLs themselves
        regex = pattern.pattern.regex
        args: list[str] = []
        if regex.groupindex:
            wanted = {k: v for k, v in world["kwargs"].items() if k in regex.groupindex}
        else:
            wanted, args = {}, ["1"] * regex.groups  # positional groups: ids
        url = reverse(name, args=args or None, kwargs=wanted or None)
        name_only = name.rpartition(":")[2]
        for principal in PRINCIPALS:
            client = world["clients"][principal]
            if name_only in POST:
                body = {"events": []} if name_only == "events-ingest" else {}
                response = client.post(url, body, content_type="application/json")
            else:
                response = client.get(url)
            allowed = expected(kind, principal)
            assert response.status_code in allowed, (url, principal, response.status_code)
            if kind == "admin" and response.status_code == 302:
                to_login = response["Location"].startswith("/admin/login/")
                assert to_login == (principal != "staff"), (url, principal, response["Location"])
            checked += 1
    assert not unknown, f"URLs without a kind in the access matrix: {unknown}"
    assert checked >= 7 * 150  # the admin's URLs included
