"""Player and service API of the missions app, under /api/v1/."""

from django.urls import path

from . import player_account_apis, player_apis
from .apis import EventsIngestApi

urlpatterns = [
    path("auth/token", player_apis.TokenApi.as_view(), name="api-token"),
    # Player API (missions/player_apis.py)
    path("missions", player_apis.MissionListApi.as_view(), name="api-missions"),
    path("missions/<int:mission_id>", player_apis.MissionDetailApi.as_view(), name="api-mission"),
    path(
        "missions/<int:mission_id>/claim",
        player_apis.MissionClaimApi.as_view(),
        name="api-mission-claim",
    ),
    # Player API (missions/player_account_apis.py)
    path("me", player_account_apis.MeApi.as_view(), name="api-me"),
    path("streaks", player_account_apis.StreaksApi.as_view(), name="api-streaks"),
    path("history", player_account_apis.HistoryApi.as_view(), name="api-history"),
    path(
        "leaderboards/<slug:template_key>",
        player_account_apis.LeaderboardApi.as_view(),
        name="api-leaderboard",
    ),
    # Service ingestion (missions/apis.py)
    path("events", EventsIngestApi.as_view(), name="events-ingest"),
]
