from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "rewards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from missions.services.replay import register_replay_check

        from .selectors import ledger_differences

        register_replay_check(once=ledger_differences)
