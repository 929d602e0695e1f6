"""Player API of the streaks app, under /api/v1/."""

from django.urls import path

from . import apis

urlpatterns = [
    path("streaks", apis.StreaksApi.as_view(), name="api-streaks"),
]
