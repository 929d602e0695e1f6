from django.apps import AppConfig


class StreaksConfig(AppConfig):
    name = "streaks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from missions.services.assignment import prerequisite_source_register
        from missions.services.replay import register_replay_check

        from . import receivers  # noqa: F401
        from .replay import streak_differences
        from .selectors import daily_streaks_by_user

        prerequisite_source_register(
            "daily_streak", lambda user_ids: daily_streaks_by_user(user_ids=user_ids)
        )
        register_replay_check(per_users=streak_differences)
