from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.metrics import metrics
from missions.player.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="prometheus-django-metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/v1/", include("missions.urls")),
    path("api/v1/", include("missions.player.api_urls")),
    path("api/v1/", include("rewards.urls")),
    path("api/v1/", include("streaks.urls")),
    path("api/v1/", include("analytics.urls")),
    # The example host platform (examples/forum) and its third-party comments app.
    path("forum/", include("examples.forum.urls")),
    path("comments/", include("examples.forum.comment_urls")),
    path("", include("missions.player.urls")),
]


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A URL under /api/ that matches no endpoint gets the API's JSON error, not an HTML page
    (e.g. a leaderboard key that is not a slug)."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": "not_found", "detail": "No API endpoint matches this URL."}, status=404
        )
    return defaults.page_not_found(request, exception)


handler404 = not_found
