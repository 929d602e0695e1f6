"""The example host platform: django-comments-xtd's own views drive missions through
`missions.track`, and the player's socket hears about it."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_comments import get_form
from django_comments_xtd.models import XtdComment

from config.asgi import application
from examples.forum.models import Forum, Topic
from missions.models import ActiveMission, Event
from missions.services import missions_assign
from tests.factories import UserFactory
from tests.layers import channel_layer_clear
from tests.missions.engine import make_template, req

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def player(name: str) -> Any:
    return UserFactory(username=name, email=f"{name}@example.com")


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def topic_by(author: Any) -> Topic:
    forum = Forum.objects.get_or_create(slug="general", defaults={"name": "General"})[0]
    return Topic.objects.create(forum=forum, title="Hello", body="First!", author=author)


def post_comment(client: Client, topic: Topic, text: str, reply_to: int = 0) -> Any:
    data = get_form()(topic).generate_security_data()
    data.update({"comment": text, "reply_to": reply_to, "followup": "", "honeypot": ""})
    return client.post(reverse("comments-post-comment"), data)


def mission_current(user: Any, template_key: str) -> int:
    mission = ActiveMission.objects.get(user=user, template__key=template_key)
    return int(sum(p.current for p in mission.progress.all()))


def test_a_post_and_a_reply_through_the_comment_app_move_a_posting_mission() -> None:
    alice, bob = player("alice"), player("bob")
    make_template(key="forum_posts", requirements={"posts": req("post:created", target=3)})
    missions_assign(user_ids=[alice.pk, bob.pk], now=timezone.now())
    topic = topic_by(bob)

    response = post_comment(logged_in(alice), topic, "A post long enough to count")
    assert response.status_code == 302, response.content[:500]
    post = XtdComment.objects.get(user=alice)
    assert mission_current(alice, "forum_posts") == 1

    reply = post_comment(logged_in(alice), topic, "And a reply", reply_to=post.pk)
    assert reply.status_code == 302
    assert XtdComment.objects.filter(parent_id=post.pk).exclude(pk=post.pk).count() == 1
    assert mission_current(alice, "forum_posts") == 2
    assert mission_current(bob, "forum_posts") == 0

    event = Event.objects.filter(user=alice, action="post:created").order_by("pk").first()
    assert event is not None
    assert event.event_id == f"forum:post:{post.pk}"
    assert event.data["thread_id"] == topic.pk
    assert event.data["content_length"] == len("A post long enough to count")


def test_starting_a_topic_and_liking_a_post_are_thread_and_reaction_events() -> None:
    alice, bob = player("alice"), player("bob")
    make_template(key="forum_threads", requirements={"t": req("thread:created", target=1)})
    make_template(key="forum_likes", requirements={"r": req("reaction:added", target=5)})
    missions_assign(user_ids=[alice.pk, bob.pk], now=timezone.now())

    Forum.objects.create(slug="general", name="General")
    page = logged_in(bob).post(
        reverse("forum:forum", args=["general"]), {"title": "Welcome", "body": "Say hello"}
    )
    assert page.status_code == 302
    topic = Topic.objects.get(title="Welcome")
    assert mission_current(bob, "forum_threads") == 1
    assert ActiveMission.objects.get(user=bob, template__key="forum_threads").state == "completed"

    post_comment(logged_in(bob), topic, "Bob's post")
    post = XtdComment.objects.get(user=bob)
    alice_client = logged_in(alice)
    like_url = reverse("comments-xtd-like", args=[post.pk])
    assert alice_client.post(like_url).status_code == 302
    assert mission_current(alice, "forum_likes") == 1
    event = Event.objects.get(user=alice, action="reaction:added")
    assert event.data == {"post_id": post.pk, "reaction": "like", "to_user_id": bob.pk}
    # Unlike and like again: the same reaction, not a second one.
    alice_client.post(like_url)
    alice_client.post(like_url)
    assert mission_current(alice, "forum_likes") == 1


def test_anonymous_visitors_cannot_post() -> None:
    author = player("bob")
    topic = topic_by(author)
    response = post_comment(Client(), topic, "spam")
    assert response.status_code < 500  # the app answers with its own form page
    assert XtdComment.objects.count() == 0
    assert not Event.objects.filter(action="post:created").exists()


def test_the_forum_pages_render_for_a_player() -> None:
    alice = player("alice")
    topic = topic_by(alice)
    post_comment(logged_in(alice), topic, "Visible post")
    client = logged_in(alice)
    assert b"General" in client.get(reverse("forum:index")).content
    assert b"Hello" in client.get(reverse("forum:forum", args=["general"])).content
    page = client.get(topic.get_absolute_url())
    assert page.status_code == 200
    assert b"Visible post" in page.content
    assert b"comments-post-comment" not in page.content  # a rendered form, not a template name


@pytest.mark.asyncio
async def test_a_comment_posted_in_the_forum_reaches_the_players_socket() -> None:
    await channel_layer_clear()

    def setup() -> tuple[Any, Topic, str, int]:
        alice = player("alice")
        make_template(key="forum_posts", requirements={"posts": req("post:created", target=3)})
        missions_assign(user_ids=[alice.pk], now=timezone.now())
        client = logged_in(alice)
        mission = ActiveMission.objects.get(user=alice, template__key="forum_posts")
        return alice, topic_by(alice), client.cookies["sessionid"].value, mission.pk

    alice, topic, session, mission_id = await sync_to_async(setup)()
    socket = WebsocketCommunicator(
        application, "/ws/missions/", headers=[ORIGIN, (b"cookie", f"sessionid={session}".encode())]
    )
    connected, _ = await socket.connect()
    assert connected

    def comment() -> int:
        client = Client()
        client.cookies["sessionid"] = session
        return post_comment(client, topic, "Live from the forum").status_code

    assert await sync_to_async(comment)() == 302
    message = await socket.receive_json_from(timeout=5)
    assert message["type"] == "mission:progress"
    assert message["missionId"] == mission_id
    assert message["current"] == 1
    await socket.disconnect()
    await channel_layer_clear()


def test_the_demo_seeds_forums_a_welcome_topic_and_player_addresses() -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("seed_demo", players=2, stdout=out)
    call_command("seed_demo", players=2, stdout=StringIO())  # idempotent
    assert sorted(Forum.objects.values_list("slug", flat=True)) == ["general", "trading"]
    assert Topic.objects.count() == 1
    assert UserFactory._meta.model.objects.get(username="player01").email == "player01@demo.invalid"
    assert "/forum/" in out.getvalue()
