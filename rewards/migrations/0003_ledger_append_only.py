from django.db import migrations

# The ledger is append-only: the database itself refuses UPDATE and DELETE of its rows.
# (TRUNCATE, used only by test teardown, is a statement, not a row change.)
POSTGRES_FORWARD = """
CREATE OR REPLACE FUNCTION rewards_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'rewards_ledgerentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER rewards_ledger_append_only
    BEFORE UPDATE OR DELETE ON rewards_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION rewards_ledger_append_only();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS rewards_ledger_append_only ON rewards_ledgerentry;
DROP FUNCTION IF EXISTS rewards_ledger_append_only();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER rewards_ledger_no_update BEFORE UPDATE ON rewards_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'rewards_ledgerentry is append-only (UPDATE refused)'); END;""",
    """CREATE TRIGGER rewards_ledger_no_delete BEFORE DELETE ON rewards_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'rewards_ledgerentry is append-only (DELETE refused)'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS rewards_ledger_no_update;",
    "DROP TRIGGER IF EXISTS rewards_ledger_no_delete;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("rewards", "0002_ledger_claims_meta")]

    operations = [migrations.RunPython(forward, backward)]
