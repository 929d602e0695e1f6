from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from .forms import TopicForm
from .models import Forum, Topic


def forum_index(request: HttpRequest) -> HttpResponse:
    forums = Forum.objects.annotate(topic_count=Count("topics"))
    return render(request, "forum/index.html", {"forums": forums})


def forum_detail(request: HttpRequest, slug: str) -> HttpResponse:
    forum = get_object_or_404(Forum, slug=slug)
    form = TopicForm()
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"/login/?next={request.path}")
        form = TopicForm(request.POST)
        if form.is_valid():
            topic = form.save(commit=False)
            topic.forum, topic.author = forum, request.user
            topic.save()
            return redirect(topic)
    topics = forum.topics.select_related("author")
    return render(request, "forum/forum.html", {"forum": forum, "topics": topics, "form": form})


@login_required
def topic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    topic = get_object_or_404(Topic.objects.select_related("forum", "author"), pk=pk)
    return render(request, "forum/topic.html", {"topic": topic})
