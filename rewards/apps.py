from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "rewards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from missions.services.assignment import prerequisite_source_register
        from missions.services.replay import register_replay_check

        from .selectors import badge_keys_by_user, ledger_differences

        prerequisite_source_register(
            "badges", lambda user_ids: badge_keys_by_user(user_ids=user_ids)
        )
        register_replay_check(once=ledger_differences)
