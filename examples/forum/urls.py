from django.urls import path

from . import views

app_name = "forum"

urlpatterns = [
    path("", views.forum_index, name="index"),
    path("topic/<int:pk>/", views.topic_detail, name="topic"),
    path("<slug:slug>/", views.forum_detail, name="forum"),
]
