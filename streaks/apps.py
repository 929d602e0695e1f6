from django.apps import AppConfig


class StreaksConfig(AppConfig):
    name = "streaks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from missions.services.replay import register_replay_check

        from . import receivers  # noqa: F401
        from .replay import streak_differences

        register_replay_check(per_users=streak_differences)
