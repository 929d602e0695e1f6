from django.apps import AppConfig


class StreaksConfig(AppConfig):
    name = "streaks"
    default_auto_field = "django.db.models.BigAutoField"
