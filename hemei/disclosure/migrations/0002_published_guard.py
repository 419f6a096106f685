"""A published disclosure version never changes: on PostgreSQL the database itself refuses an
UPDATE or DELETE of a published version, or of an attachment of one. SQLite has no such trigger:
there `hemei verify` (the hash chain) finds any change (docs/disclosure.md)."""

from django.db import migrations

POSTGRES = [
    """CREATE OR REPLACE FUNCTION disclosure_published_guard() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'published disclosure versions never change (%)', TG_TABLE_NAME; END;
       $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER disclosure_disclosureversion_published_guard
       BEFORE UPDATE OR DELETE ON disclosure_disclosureversion
       FOR EACH ROW WHEN (OLD.status = 'published') EXECUTE FUNCTION disclosure_published_guard();""",
    """CREATE OR REPLACE FUNCTION disclosure_attachment_guard() RETURNS trigger AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM disclosure_disclosureversion WHERE id = OLD.version_id AND status = 'published')
         THEN RAISE EXCEPTION 'attachments of published disclosure versions never change'; END IF;
         IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER disclosure_disclosureattachment_published_guard
       BEFORE UPDATE OR DELETE ON disclosure_disclosureattachment
       FOR EACH ROW EXECUTE FUNCTION disclosure_attachment_guard();""",
]
DROP = [
    "DROP TRIGGER IF EXISTS disclosure_disclosureversion_published_guard ON disclosure_disclosureversion",
    "DROP TRIGGER IF EXISTS disclosure_disclosureattachment_published_guard ON disclosure_disclosureattachment",
    "DROP FUNCTION IF EXISTS disclosure_published_guard()",
    "DROP FUNCTION IF EXISTS disclosure_attachment_guard()",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES:
            schema_editor.execute(sql, None)  # None: no placeholder parsing of the "%" in plpgsql


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql, None)


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
