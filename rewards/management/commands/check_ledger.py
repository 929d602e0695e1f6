"""`manage.py check_ledger`: prove balances equal their entries and each claim paid once."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from rewards.selectors import ledger_differences


class Command(BaseCommand):
    help = "Verify balances against ledger entries and each claimed mission against one grant."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = ledger_differences()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"ledger check failed: {len(problems)} difference(s)")
        self.stdout.write(
            self.style.SUCCESS("ledger OK: balances match entries, one grant per claim")
        )
