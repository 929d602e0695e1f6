from django.contrib import admin
from django.urls import include, path
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
    path("", include("missions.player.urls")),
]
