"""The database refuses changes to effective ledger entries (ARCHITECTURE rule 4).

PostgreSQL: a trigger refuses UPDATE and DELETE of a row whose state is 'effective'
(TRUNCATE, used by the test runner to empty tables, fires no row trigger). SQLite: a trigger
refuses UPDATE of such rows; DELETE stays open there only because Django's test runner
empties tables with DELETE. `hemei verify` checks that the trigger is present and re-derives
every chain, so a change made around it is still found.
"""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION points_entry_effective_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'points entry % is effective and cannot change', OLD.id;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER points_entry_effective_immutable
    BEFORE UPDATE OR DELETE ON points_entry
    FOR EACH ROW WHEN (OLD.state = 'effective')
    EXECUTE FUNCTION points_entry_effective_immutable();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS points_entry_effective_immutable ON points_entry;
DROP FUNCTION IF EXISTS points_entry_effective_immutable();
"""
SQLITE_UP = """
CREATE TRIGGER points_entry_effective_immutable
BEFORE UPDATE ON points_entry FOR EACH ROW WHEN OLD.state = 'effective'
BEGIN SELECT RAISE(ABORT, 'points entry is effective and cannot change'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS points_entry_effective_immutable;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
