from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from config.celery import app

        # Merged into whatever schedule the project defines, not replacing it.
        app.conf.beat_schedule = {
            **(app.conf.beat_schedule or {}),
            "analytics-refresh-rollups": {
                "task": "analytics.refresh_rollups",
                "schedule": float(settings.ANALYTICS_REFRESH_SECONDS),
            },
        }
