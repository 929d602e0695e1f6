"""django-comments-xtd's pages (post, reply, like, flag...), without its REST API: the
forum is server-rendered, and our OpenAPI schema documents the mission API only."""

from django.urls import include, re_path
from django_comments_xtd import views

urlpatterns = [
    re_path(r"^sent/$", views.sent, name="comments-xtd-sent"),
    re_path(r"^confirm/(?P<key>[^/]+)/$", views.confirm, name="comments-xtd-confirm"),
    re_path(r"^mute/(?P<key>[^/]+)/$", views.mute, name="comments-xtd-mute"),
    re_path(r"^reply/(?P<cid>\d+)/$", views.reply, name="comments-xtd-reply"),
    re_path(r"^flag/(\d+)/$", views.flag, name="comments-flag"),
    re_path(r"^like/(\d+)/$", views.like, name="comments-xtd-like"),
    re_path(r"^liked/$", views.like_done, name="comments-xtd-like-done"),
    re_path(r"^dislike/(\d+)/$", views.dislike, name="comments-xtd-dislike"),
    re_path(r"^disliked/$", views.dislike_done, name="comments-xtd-dislike-done"),
    re_path(r"", include("django_comments.urls")),
]
