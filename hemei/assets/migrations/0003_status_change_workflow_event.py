"""Asset status changes become the history of the `assets.asset` workflow (`WorkflowEvent`):
`old_status`/`new_status` become `from_state`/`to_state`, `reason` becomes `note`, and each row
gains a `kind` (the first row of an asset, from nothing, is its registration; every other row
a change) and `data`. The rows stay in their table and keep every value. Projects get their
own history table (`ProjectEvent`)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

STATUS = [("in_use", "in use"), ("idle", "idle"), ("leased", "leased"), ("shares", "contributed as shares"),
          ("revitalising", "being revitalised")]


def backfill(apps, schema_editor):
    Change = apps.get_model("assets", "AssetStatusChange")
    Change.objects.filter(from_state="").update(kind="registered")
    Change.objects.exclude(from_state="").update(kind="changed")


class Migration(migrations.Migration):
    dependencies = [
        ("assets", "0002_photos_history_projects"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField("assetstatuschange", "old_status", "from_state"),
        migrations.RenameField("assetstatuschange", "new_status", "to_state"),
        migrations.RenameField("assetstatuschange", "reason", "note"),
        migrations.AlterField(
            "assetstatuschange", "from_state",
            models.CharField(blank=True, choices=STATUS, max_length=20, verbose_name="previous status"),
        ),
        migrations.AlterField(
            "assetstatuschange", "to_state",
            models.CharField(blank=True, choices=STATUS, max_length=20, verbose_name="new status"),
        ),
        migrations.AlterField(
            "assetstatuschange", "note", models.TextField(blank=True, max_length=4000, verbose_name="note"),
        ),
        migrations.AddField(
            "assetstatuschange", "kind", models.CharField(default="changed", max_length=30, verbose_name="kind"),
            preserve_default=False,
        ),
        migrations.AddField(
            "assetstatuschange", "data", models.JSONField(blank=True, default=dict, verbose_name="data"),
        ),
        migrations.AlterField(
            "assetstatuschange", "actor",
            models.ForeignKey(blank=True, db_constraint=False, null=True,
                              on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                              to=settings.AUTH_USER_MODEL, verbose_name="actor"),
        ),
        migrations.AlterField(
            "assetstatuschange", "at",
            models.DateTimeField(default=django.utils.timezone.now, verbose_name="time"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.CreateModel(
            name="ProjectEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="time")),
                ("kind", models.CharField(max_length=30, verbose_name="kind")),
                ("from_state", models.CharField(blank=True, max_length=20, verbose_name="from state")),
                ("to_state", models.CharField(blank=True, max_length=20, verbose_name="to state")),
                ("note", models.TextField(blank=True, max_length=4000, verbose_name="note")),
                ("data", models.JSONField(blank=True, default=dict, verbose_name="data")),
                ("actor", models.ForeignKey(blank=True, db_constraint=False, null=True,
                                            on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                                            to=settings.AUTH_USER_MODEL, verbose_name="actor")),
                ("project", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="events",
                                              to="assets.revitalisationproject", verbose_name="project")),
            ],
            options={"verbose_name": "project event", "verbose_name_plural": "project events",
                     "ordering": ["at", "id"], "abstract": False},
        ),
    ]
