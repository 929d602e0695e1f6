"""Player and service API of the missions app, under /api/v1/."""

from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from .apis import EventsIngestApi

urlpatterns = [
    path("auth/token", obtain_auth_token, name="api-token"),
    path("events", EventsIngestApi.as_view(), name="events-ingest"),
]
