from django.db import migrations

# Frozen copy of missions.catalog.DEFAULT_ACTIONS at the time of this migration.
DEFAULT_ACTIONS = {
    "post:created": {
        "post_id": "int",
        "thread_id": "int",
        "forum_id": "int",
        "content_length": "int",
        "has_media": "bool",
    },
    "thread:created": {"thread_id": "int", "forum_id": "int"},
    "reaction:added": {"post_id": "int", "reaction": "str", "to_user_id": "int"},
    "user:followed": {"to_user_id": "int"},
    "tip:sent": {"amount": "number", "to_user_id": "int"},
    "rain:created": {"amount": "number", "recipients": "int"},
    "shop:purchase": {"item_id": "int", "price": "number"},
    "dgt:transferred": {"amount": "number", "to_user_id": "int"},
    "shoutbox:message": {"length": "int"},
    "achievement:unlocked": {"achievement_key": "str"},
}


def seed(apps, schema_editor):
    ActionType = apps.get_model("missions", "ActionType")
    for action, fields in DEFAULT_ACTIONS.items():
        ActionType.objects.get_or_create(action=action, defaults={"fields": fields})


class Migration(migrations.Migration):
    dependencies = [("missions", "0002_engine")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
