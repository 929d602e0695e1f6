from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from missions.errors import TemplateInvalid
from missions.json_limits import JsonLimitExceeded, json_loads_limited
from missions.services import templates_load


class Command(BaseCommand):
    help = "Load mission templates from a JSON list; all or nothing; same keys are updated."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        try:
            items = json_loads_limited(
                file.read_bytes(),
                max_bytes=settings.MISSIONS_MAX_TEMPLATE_FILE_BYTES,
                what="the file",
            )
        except FileNotFoundError as exc:
            raise CommandError(f"{file}: no such file") from exc
        except JsonLimitExceeded as exc:
            raise CommandError(f"{file}: {exc}") from exc
        except ValueError as exc:
            raise CommandError(f"{file}: not valid JSON ({exc})") from exc
        try:
            created, updated = templates_load(items=items)
        except TemplateInvalid as exc:
            lines = [f"{file}: {exc.message}"]
            for label, errors in exc.errors.items():
                if isinstance(errors, dict):
                    lines.append(f"  template {label}:")
                    lines += [f"    {field}: {'; '.join(msgs)}" for field, msgs in errors.items()]
                else:
                    lines.append(f"  {label}: {'; '.join(map(str, errors))}")
            raise CommandError("\n".join(lines)) from exc
        self.stdout.write(self.style.SUCCESS(f"{file}: {created} created, {updated} updated"))
