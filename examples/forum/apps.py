from django.apps import AppConfig


class ForumConfig(AppConfig):
    name = "examples.forum"
    label = "forum"
    verbose_name = "Example forum"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401
