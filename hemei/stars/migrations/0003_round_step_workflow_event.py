"""Round steps take the shape of every workflow history row (`WorkflowEvent`, the
`stars.round` workflow): `action` becomes `kind`, `stage` becomes `to_state` (with the stage
before in `from_state`), and the rows gain `data`. The rows stay in their table and keep every
value.

On SQLite, altering these columns rebuilds the table, which drops its triggers; on PostgreSQL
the trigger would refuse the backfill. So the guard is dropped first and created again at the
end, exactly as migration 0002 made it (`hemei verify` checks it is there; a test proves it
still refuses an UPDATE after migrating).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "stars_starroundstep"


def _create_guard(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"""
CREATE OR REPLACE FUNCTION {TABLE}_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{TABLE} rows are history and cannot change';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {TABLE}_immutable BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_immutable();
""", params=None)
    elif vendor == "sqlite":
        schema_editor.execute(f"CREATE TRIGGER {TABLE}_immutable BEFORE UPDATE ON {TABLE} FOR EACH ROW "
                              f"BEGIN SELECT RAISE(ABORT, '{TABLE} rows are history and cannot change'); END;")


def _drop_guard(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_immutable ON {TABLE}", params=None)
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_immutable")


def drop_guard(apps, schema_editor):
    _drop_guard(schema_editor)


def create_guard(apps, schema_editor):
    _create_guard(schema_editor)


def backfill(apps, schema_editor):
    """from_state/to_state from each round's steps in order: a step reached its `stage` from
    the stage of the step before (the first, `opened`, from nothing)."""
    Step = apps.get_model("stars", "StarRoundStep")
    reached: dict[int, str] = {}
    changed = []
    for step in Step.objects.order_by("round_id", "at", "id").iterator(chunk_size=2000):
        step.from_state = reached.get(step.round_id, "")
        step.to_state = step.stage
        reached[step.round_id] = step.stage
        changed.append(step)
    Step.objects.bulk_update(changed, ["from_state", "to_state"], batch_size=500)


def restore_stage(apps, schema_editor):
    Step = apps.get_model("stars", "StarRoundStep")
    changed = []
    for step in Step.objects.iterator(chunk_size=2000):
        step.stage = step.to_state
        changed.append(step)
    Step.objects.bulk_update(changed, ["stage"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("stars", "0002_history_guard"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_guard, create_guard),
        migrations.RenameField("starroundstep", "action", "kind"),
        migrations.AlterField("starroundstep", "kind", models.CharField(max_length=30, verbose_name="kind")),
        migrations.AddField(
            "starroundstep", "from_state",
            models.CharField(blank=True, default="", max_length=20, verbose_name="from state"),
            preserve_default=False,
        ),
        migrations.AddField(
            "starroundstep", "to_state",
            models.CharField(blank=True, default="", max_length=20, verbose_name="to state"),
            preserve_default=False,
        ),
        migrations.AddField(
            "starroundstep", "data", models.JSONField(blank=True, default=dict, verbose_name="data"),
        ),
        migrations.AlterField(
            "starroundstep", "note", models.TextField(blank=True, max_length=4000, verbose_name="note"),
        ),
        migrations.AlterField(
            "starroundstep", "actor",
            models.ForeignKey(blank=True, db_constraint=False, null=True,
                              on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                              to=settings.AUTH_USER_MODEL, verbose_name="actor"),
        ),
        migrations.RunPython(backfill, restore_stage),
        # A default first, so that going back re-adds the column to rows that exist.
        migrations.AlterField(
            "starroundstep", "stage", models.CharField(blank=True, default="", max_length=10, verbose_name="stage"),
        ),
        migrations.RemoveField("starroundstep", "stage"),
        migrations.AlterModelOptions(
            "starroundstep",
            options={"ordering": ["round", "at", "id"], "verbose_name": "round step",
                     "verbose_name_plural": "round steps"},
        ),
        migrations.RunPython(create_guard, drop_guard),
    ]
