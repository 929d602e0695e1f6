"""Service API of the missions app, under /api/v1/ (the player API: missions/player/api_urls.py)."""

from django.urls import path

from .apis import EventsIngestApi, PlayerTimezoneApi

urlpatterns = [
    # Service ingestion (missions/apis.py)
    path("events", EventsIngestApi.as_view(), name="events-ingest"),
    path("players/<int:user_id>/timezone", PlayerTimezoneApi.as_view(), name="player-timezone"),
]
