from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    default_auto_field = "django.db.models.BigAutoField"
    # The rollup refresh (analytics.refresh_rollups) is scheduled with the rest of the
    # lifecycle in config/schedule.py, every ANALYTICS_REFRESH_SECONDS.
