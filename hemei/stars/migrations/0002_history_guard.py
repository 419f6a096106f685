"""The database refuses changes to star history (挂星 / 摘星 rows and round steps).

PostgreSQL: triggers refuse UPDATE and DELETE (TRUNCATE, used by the test runner to empty
tables, fires no row trigger). SQLite: triggers refuse UPDATE; DELETE stays open there only
because Django's test runner empties tables with DELETE. `hemei verify` checks the triggers
are present and re-derives the current stars from the history.
"""

from django.db import migrations

TABLES = ("stars_starchange", "stars_starroundstep")


def _pg_up(table: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {table}_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} rows are history and cannot change';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_immutable();
"""


def _pg_down(table: str) -> str:
    return f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}; DROP FUNCTION IF EXISTS {table}_immutable();"


def _sqlite_up(table: str) -> str:
    return (f"CREATE TRIGGER {table}_immutable BEFORE UPDATE ON {table} FOR EACH ROW "
            f"BEGIN SELECT RAISE(ABORT, '{table} rows are history and cannot change'); END;")


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(_pg_up(table), params=None)
        elif vendor == "sqlite":
            schema_editor.execute(_sqlite_up(table))


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(_pg_down(table), params=None)
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable;")


class Migration(migrations.Migration):
    dependencies = [("stars", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
