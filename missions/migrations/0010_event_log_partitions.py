"""The event log over years (docs/events.md): the dedupe keys move to their own table, and on
Postgres `missions_event` becomes a table partitioned by month of `received_at`. SQLite keeps
one plain table. Irreversible on Postgres (the partitions would have to be merged back)."""

from datetime import UTC, datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from missions import event_partitions as parts


def keys_backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO missions_eventkey (event_id, received_at) "
            "SELECT event_id, min(received_at) FROM missions_event GROUP BY event_id"
        )


def log_partition(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    users = apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table
    with connection.cursor() as cursor:
        if parts.is_partitioned(cursor):
            return
        # Free the names the partitioned table takes (table, primary key, indexes).
        cursor.execute("ALTER TABLE missions_event RENAME TO missions_event_plain")
        cursor.execute(
            "ALTER TABLE missions_event_plain "
            "RENAME CONSTRAINT missions_event_pkey TO missions_event_plain_pkey"
        )
        cursor.execute("DROP INDEX event_user_seq, event_action_time, event_received")
        for statement in parts.PARTITIONED_DDL:
            cursor.execute(statement)
        cursor.execute(
            f"ALTER TABLE missions_event ADD CONSTRAINT missions_event_user_id_fk "
            f"FOREIGN KEY (user_id) REFERENCES {users} (id) DEFERRABLE INITIALLY DEFERRED"
        )
        cursor.execute("INSERT INTO missions_event SELECT * FROM missions_event_plain")
        cursor.execute(
            "SELECT setval('missions_event_seq', "
            "COALESCE((SELECT max(id) FROM missions_event), 0) + 1, false)"
        )
        cursor.execute("DROP TABLE missions_event_plain")
        # The months the old rows arrived in, and this month and the next ones.
        this_month = parts.month_start(datetime.now(UTC))
        ahead = int(getattr(settings, "MISSIONS_EVENT_PARTITIONS_AHEAD", 3))
        months = set(parts.default_months(cursor))
        months |= {parts.add_months(this_month, n) for n in range(ahead + 1)}
        for month in sorted(months):
            parts.create(cursor, parts.Partition.for_month(month))


class Migration(migrations.Migration):

    dependencies = [
        ('missions', '0009_player_timezone'),
    ]

    operations = [
        migrations.CreateModel(
            name='EventKey',
            fields=[
                ('event_id', models.CharField(max_length=200, primary_key=True, serialize=False)),
                ('received_at', models.DateTimeField(db_index=True)),
            ],
        ),
        migrations.CreateModel(
            name='MissionSnapshot',
            fields=[
                ('mission', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='missions.activemission')),
                ('as_of', models.DateTimeField()),
                ('state', models.CharField(choices=[('active', 'Active'), ('completed', 'Completed'), ('claimed', 'Claimed'), ('expired', 'Expired'), ('failed', 'Failed')], max_length=16)),
                ('completed_at', models.DateTimeField(blank=True, null=True)),
                ('progress', models.JSONField(default=dict)),
            ],
        ),
        migrations.CreateModel(
            name='RetiredPartition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=63, unique=True)),
                ('range_start', models.DateTimeField()),
                ('range_end', models.DateTimeField()),
                ('retired_at', models.DateTimeField()),
                ('events', models.BigIntegerField(default=0)),
                ('snapshots', models.IntegerField(default=0)),
                ('dropped', models.BooleanField(default=True)),
            ],
            options={
                'ordering': ['-range_end'],
            },
        ),
        migrations.AlterField(
            model_name='event',
            name='event_id',
            field=models.CharField(help_text="The sender's id.", max_length=200),
        ),
        migrations.AlterField(
            model_name='event',
            name='user',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(keys_backfill, migrations.RunPython.noop),
        migrations.RunPython(log_partition),
    ]
