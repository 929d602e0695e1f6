from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    default_auto_field = "django.db.models.BigAutoField"
    # The rollup refresh (analytics.refresh_rollups) is scheduled with the rest of the
    # lifecycle in config/schedule.py, every ANALYTICS_REFRESH_SECONDS.

    def ready(self) -> None:
        from missions.services.assignment import prerequisite_source_register

        from .experiments import excluded_templates

        # A running experiment withholds from each player the variants of other buckets.
        prerequisite_source_register("excluded_templates", excluded_templates)
