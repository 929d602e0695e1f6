"""Demo content for `make run`: two forums and a welcome topic, so a player can post,
reply and like at /forum/ and watch the hub move."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import F, Value
from django.db.models.functions import Concat

from .models import Forum, Topic

FORUMS = [
    ("general", "General", "Say hello, ask anything."),
    ("trading", "Trading", "Tips, rain and the DGT market."),
]


def seed_forum_demo(*, author_username: str = "admin") -> None:
    """Idempotent. Demo players get an address, which the comment form asks for."""
    User = get_user_model()
    User.objects.filter(username__startswith="player", email="").update(
        email=Concat(F("username"), Value("@demo.invalid"))
    )
    for slug, name, description in FORUMS:
        Forum.objects.update_or_create(
            slug=slug, defaults={"name": name, "description": description}
        )
    author = User.objects.filter(username=author_username).first()
    if author is not None and not Topic.objects.exists():
        Topic.objects.create(
            forum=Forum.objects.get(slug="general"),
            title="Welcome to the forum",
            body="Every post, reply and like here is an event for the mission engine.",
            author=author,
        )
