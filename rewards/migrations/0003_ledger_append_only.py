from django.db import migrations

# The ledger is append-only: the database itself refuses UPDATE and DELETE of its rows.
# (TRUNCATE, used only by test teardown, is a statement, not a row change.)
FORWARD = """
CREATE OR REPLACE FUNCTION rewards_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'rewards_ledgerentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER rewards_ledger_append_only
    BEFORE UPDATE OR DELETE ON rewards_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION rewards_ledger_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS rewards_ledger_append_only ON rewards_ledgerentry;
DROP FUNCTION IF EXISTS rewards_ledger_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("rewards", "0002_ledger_claims_meta")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
