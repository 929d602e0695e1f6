"""`manage.py replay_events [--user ID ...] [--since ISO] [--fix]`: rebuild progress and
completions from the event log and report every difference from the stored state; then
the checks the other apps register (streaks rebuilt and compared, the ledger checked)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime
from tqdm import tqdm

from missions.models import ActiveMission
from missions.services.replay import replay_events


class Command(BaseCommand):
    help = "Replay the event log and compare the result with stored progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", type=int, action="append", dest="users", default=None)
        parser.add_argument("--since", help="Only missions whose period ends after this instant.")
        parser.add_argument("--fix", action="store_true", help="Overwrite differing state.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["since"]:
            since = parse_datetime(options["since"])
            if since is None or since.tzinfo is None:
                raise CommandError("--since must be an ISO-8601 date-time with a timezone")
        users = options["users"]
        if users is None:
            users = list(
                ActiveMission.objects.values_list("user_id", flat=True)
                .distinct()
                .order_by("user_id")
            )
        with tqdm(
            total=len(users), unit="user", disable=options["no_progress"], file=self.stderr
        ) as bar:
            report = replay_events(
                user_ids=users, since=since, fix=options["fix"], on_chunk=bar.update
            )
        for difference in report.differences:
            self.stdout.write(self.style.WARNING(str(difference)))
        for problem in report.problems:
            self.stdout.write(self.style.WARNING(problem))
        summary = (
            f"replayed {report.events} events into {report.missions} missions of "
            f"{report.users} users: {len(report.differences)} difference(s)"
        )
        if options["fix"]:
            summary += f", {report.fixed} mission(s) fixed"
        if report.horizon is not None:
            summary += (
                f"; the log starts at {report.horizon.isoformat()}: {report.from_snapshot} "
                f"mission(s) started from their snapshot, {report.outside_retention} closed "
                "before it (outside retention) skipped"
            )
        summary += f"; streaks and ledger: {len(report.problems)} problem(s)"
        style = (
            self.style.SUCCESS
            if not report.differences and not report.problems
            else self.style.ERROR
        )
        self.stdout.write(style(summary))
