"""`manage.py create_service_key NAME`: prints a new service key once (only its hash is kept)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from missions.errors import DomainError
from missions.services.service_keys import service_key_create


class Command(BaseCommand):
    help = "Create a service key for POST /api/v1/events and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        try:
            _, raw = service_key_create(name=name)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(raw)
