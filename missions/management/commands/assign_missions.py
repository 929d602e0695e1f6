from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from tqdm import tqdm

from missions.metrics import reset_timer
from missions.services import missions_assign_all


class Command(BaseCommand):
    help = (
        "Assign the current daily/weekly/monthly/special/perpetual missions to every active user."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--at", help="ISO-8601 instant to assign for (default: now)")
        parser.add_argument("--chunk", type=int, default=2000, help="users per set-based chunk")
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["at"]:
            parsed = parse_datetime(options["at"])
            if parsed is None or parsed.tzinfo is None:
                raise CommandError(
                    f"--at {options['at']!r}: give an ISO-8601 instant with a timezone"
                )
            now = parsed
        if options["chunk"] < 1:
            raise CommandError("--chunk must be at least 1")
        users = get_user_model().objects.filter(is_active=True).count()
        with (
            tqdm(total=users, unit="user", disable=options["no_progress"], file=self.stderr) as bar,
            reset_timer("all"),
        ):
            total = missions_assign_all(
                now=now, chunk_size=options["chunk"], on_chunk=lambda n, _created: bar.update(n)
            )
        self.stdout.write(
            self.style.SUCCESS(f"{total} missions assigned to {users} users for {now.isoformat()}")
        )
