"""Player API of the rewards app (wallet, claims, history), under /api/v1/."""

from django.urls import path

from . import apis

urlpatterns = [
    path("me", apis.MeApi.as_view(), name="api-me"),
    path(
        "missions/<int:mission_id>/claim", apis.MissionClaimApi.as_view(), name="api-mission-claim"
    ),
    path("missions/claim-all", apis.MissionClaimAllApi.as_view(), name="api-missions-claim-all"),
    path("history", apis.HistoryApi.as_view(), name="api-history"),
    path(
        "history/competitions",
        apis.CompetitionHistoryApi.as_view(),
        name="api-history-competitions",
    ),
]
