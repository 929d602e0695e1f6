"""Player and service API of the missions app, under /api/v1/."""

from django.urls import path

from . import player_apis

urlpatterns = [
    path("auth/token", player_apis.TokenApi.as_view(), name="api-token"),
    # Player API (missions/player_apis.py)
    path("missions", player_apis.MissionListApi.as_view(), name="api-missions"),
    path("missions/<int:mission_id>", player_apis.MissionDetailApi.as_view(), name="api-mission"),
]
