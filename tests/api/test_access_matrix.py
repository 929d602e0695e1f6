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
    "player-timezone": "service",
    "api-missions": "player api",
    "api-mission": "player api, own object",
    "api-mission-claim": "player api, own object",
    "api-leaderboard": "player api",
    "api-me": "player api",
    "api-me-timezone": "player api",
    "api-history": "player api",
    "api-history-competitions": "player api",
    "api-streaks": "player api",
    "hub": "page",
    "history": "page",
    "profile": "page",
    "hub-card": "page, own object",
    "admin:login": "public",
    "admin:logout": "public",
    "api-missions-claim-all": "player api",
    "hub-header": "page",
    "leaderboard": "page",
    "favicon.ico": "public",
    # The example host platform (examples/forum) and its third-party comments app: a topic
    # is readable by every signed-in player; the comment views answer for themselves, and
    # test_forum.py proves an anonymous post stores nothing.
    "forum:index": "public",
    "forum:forum": "public",
    "forum:topic": "page",
}
COMMENT_VIEWS = "comments"
POST = {"events-ingest", "api-token", "api-mission-claim", "api-missions-claim-all", "logout"}


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
    from missions.models import ActiveMission
    from missions.services import missions_assign_for_user
    from missions.services.service_keys import service_key_create, service_key_revoke
    from tests.serving.tokens import api_token

    template = TemplateFactory(key="matrix_post", period_type="perpetual")
    competitive = TemplateFactory(key="matrix_top", type="competitive", period_type="weekly")
    owner = UserFactory(username="owner")
    other = UserFactory(username="other")
    staff = UserFactory(username="staff", is_staff=True, is_superuser=True)
    from django.utils import timezone

    from examples.forum.models import Forum, Topic

    missions_assign_for_user(user_id=owner.pk, now=timezone.now())
    forum = Forum.objects.create(slug="general", name="General")
    topic = Topic.objects.create(forum=forum, title="Hello", body="Hi", author=owner)
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
            client.defaults["HTTP_AUTHORIZATION"] = f"Token {api_token(user)}"
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
            "user_id": owner.pk,
            "template_key": competitive.key,
            "object_id": "1",
            "id": "1",
            "content_type_id": 1,
            "app_label": "missions",
            "slug": forum.slug,
            "pk": topic.pk,
            "key": "not-a-signed-key",
            "cid": "1",
            "comment_id": "1",
        },
    }


def expected(kind: str, principal: str) -> set[int]:
    """Statuses allowed for one principal on one kind of URL."""
    if kind == "public":
        # open to all; 301: the favicon's permanent redirect; 400/405: a bare request to a
        # form or POST
        return {200, 301, 302, 400, 405}
    if kind == COMMENT_VIEWS:  # django-comments-xtd's own views: never a server error
        return {200, 302, 400, 403, 404, 405}
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
    if kind == "admin":
        if principal == "staff":
            # in; 403/404: a bare request (autocomplete without a field); 405: a GET on an
            # action that only takes POST (the analytics refresh)
            return {200, 302, 403, 404, 405}
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
        elif name.startswith("comments-"):
            kind = COMMENT_VIEWS
        elif name.startswith("admin:") or name.startswith("admin/"):
            kind = "admin"
        else:
            unknown.append(name)
            continue
        if not pattern.name:
            continue  # admin's catch-all: reached by the admin URLs themselves
        wanted = {k: v for k, v in world["kwargs"].items() if k in pattern.pattern.converters}
        if hasattr(pattern.pattern, "regex"):
            wanted = {
                k: v for k, v in world["kwargs"].items() if k in pattern.pattern.regex.groupindex
            }
        regex = getattr(pattern.pattern, "regex", None)
        positional = regex.groups - len(regex.groupindex) if regex is not None else 0
        url = reverse(name, args=["1"] * positional) if positional else reverse(name, kwargs=wanted)
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
