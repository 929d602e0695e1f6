from django.apps import AppConfig


class StreaksConfig(AppConfig):
    name = "streaks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401
