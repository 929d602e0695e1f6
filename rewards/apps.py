from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "rewards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from missions.services.assignment import prerequisite_source_register

        from .selectors import badge_keys_by_user

        prerequisite_source_register(
            "badges", lambda user_ids: badge_keys_by_user(user_ids=user_ids)
        )
