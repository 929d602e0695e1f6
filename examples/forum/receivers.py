"""The whole integration: the forum's signals and django-comments-xtd's own, each turned
into one `missions.track` call. The event ids make a re-sent signal harmless."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver
from django_comments.models import CommentFlag
from django_comments_xtd.models import LIKEDIT_FLAG
from django_comments_xtd.signals import confirmation_received

import missions

from .models import Topic


@receiver(post_save, sender=Topic, dispatch_uid="forum.topic_created")
def topic_created(sender: Any, instance: Topic, created: bool, **kwargs: Any) -> None:
    if created:
        data = {"thread_id": instance.pk, "forum_id": instance.forum_id}
        missions.track(
            instance.author_id, "thread:created", data, event_id=f"forum:topic:{instance.pk}"
        )


@receiver(confirmation_received, dispatch_uid="forum.comment_posted")
def comment_posted(sender: Any, comment: Any, **kwargs: Any) -> None:
    """A post or a reply is published (xtd sends this once it is stored)."""
    post = comment.xtd_comment
    topic = post.content_object
    if post.user_id is None or not isinstance(topic, Topic):
        return
    data = {
        "post_id": post.pk,
        "thread_id": topic.pk,
        "forum_id": topic.forum_id,
        "content_length": len(post.comment),
        "has_media": False,
    }
    missions.track(post.user_id, "post:created", data, event_id=f"forum:post:{post.pk}")


@receiver(post_save, sender=CommentFlag, dispatch_uid="forum.comment_liked")
def comment_liked(sender: Any, instance: CommentFlag, created: bool, **kwargs: Any) -> None:
    if created and instance.flag == LIKEDIT_FLAG and instance.comment.user_id is not None:
        data = {
            "post_id": instance.comment_id,
            "reaction": "like",
            "to_user_id": instance.comment.user_id,
        }
        # One reaction per (post, player): unliking and liking again is not a second event.
        event_id = f"forum:like:{instance.comment_id}:{instance.user_id}"
        missions.track(instance.user_id, "reaction:added", data, event_id=event_id)
