"""`manage.py setup_schedule [--reset]`: create the PeriodicTask rows of config/schedule.py.

Idempotent: a missing row is created; an existing one keeps what an admin changed (its
schedule, enabled flag) unless --reset puts the declared schedule back. Rows an admin
added are left alone.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from config.schedule import SCHEDULE, Entry


def _schedule_fields(entry: Entry) -> dict[str, Any]:
    if entry.crontab is not None:
        minute, hour, day_of_week, day_of_month = entry.crontab
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week=day_of_week,
            day_of_month=day_of_month,
            month_of_year="*",
            timezone="UTC",
        )
        return {"crontab": crontab, "interval": None}
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=int(entry.every_seconds or 60), period=IntervalSchedule.SECONDS
    )
    return {"interval": interval, "crontab": None}


class Command(BaseCommand):
    help = "Create (or with --reset restore) the Celery beat schedule of config/schedule.py."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="Restore declared schedules.")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        created = reset = 0
        for entry in SCHEDULE:
            fields = {
                "task": entry.task,
                "kwargs": json.dumps(entry.kwargs, sort_keys=True),
                "description": entry.description,
                **_schedule_fields(entry),
            }
            task = PeriodicTask.objects.filter(name=entry.name).first()
            if task is None:
                PeriodicTask.objects.create(name=entry.name, enabled=True, **fields)
                created += 1
            elif options["reset"]:
                for name, value in fields.items():
                    setattr(task, name, value)
                task.enabled = True
                task.save()
                reset += 1
        self.stdout.write(
            f"schedule: {len(SCHEDULE)} tasks declared, {created} created, {reset} reset"
        )
