"""The missions player API, mounted at /api/v1/ by config/urls.py (the hub pages: urls.py;
wallet, claims and history: rewards/urls.py; streaks: streaks/urls.py; the socket: routing.py)."""

from django.urls import path

from . import apis

urlpatterns = [
    path("auth/token", apis.TokenApi.as_view(), name="api-token"),
    path("me/timezone", apis.TimezoneApi.as_view(), name="api-me-timezone"),
    path("missions", apis.MissionListApi.as_view(), name="api-missions"),
    path("missions/<int:mission_id>", apis.MissionDetailApi.as_view(), name="api-mission"),
    path(
        "leaderboards/<slug:template_key>",
        apis.LeaderboardApi.as_view(),
        name="api-leaderboard",
    ),
]
