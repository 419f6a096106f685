"""Random public ids for monitoring notices and the whole procedure's clock.

1. Add `public_id` as nullable, then give every existing record a random one (a data
   migration), then make it unique and required: old notices leave their sequential address.
2. Add the procedure clock; records still in the procedure get `procedure_due` = entry + the
   overall limit (15 days by default), so the next sweep escalates the ones already late.
"""

import datetime as dt
import secrets

from django.conf import settings
from django.db import migrations, models

import hemei.visits.models

OPEN = ["verify", "review", "notice", "township", "county"]


def forwards(apps, schema_editor):
    Monitoring = apps.get_model("visits", "Monitoring")
    days = int(getattr(settings, "HEMEI_MONITORING_PROCEDURE_DAYS", 15))
    for m in Monitoring.objects.all().only("pk", "step", "created_at").iterator():
        changes = {"public_id": secrets.token_urlsafe(16)}
        if m.step in OPEN:
            changes["procedure_due"] = m.created_at + dt.timedelta(days=days)
        Monitoring.objects.filter(pk=m.pk).update(**changes)


class Migration(migrations.Migration):
    dependencies = [("visits", "0002_threshold_2026")]

    operations = [
        migrations.AddField(
            model_name="monitoring",
            name="public_id",
            field=models.CharField(editable=False, max_length=32, null=True, verbose_name="public id"),
        ),
        migrations.AddField(
            model_name="monitoring",
            name="procedure_due",
            field=models.DateTimeField(blank=True, null=True, verbose_name="procedure due"),
        ),
        migrations.AddField(
            model_name="monitoring",
            name="procedure_tier",
            field=models.CharField(
                choices=[("village", "village"), ("township", "township"), ("county", "county")],
                default="village",
                max_length=10,
                verbose_name="procedure tier",
            ),
        ),
        migrations.AddField(
            model_name="monitoring",
            name="procedure_overdue",
            field=models.BooleanField(default=False, verbose_name="procedure was overdue"),
        ),
        migrations.AddField(
            model_name="monitoring",
            name="procedure_escalated_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="procedure escalated"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="monitoring",
            name="public_id",
            field=models.CharField(
                default=hemei.visits.models.new_public_id,
                editable=False,
                max_length=32,
                unique=True,
                verbose_name="public id",
            ),
        ),
        migrations.AddIndex(
            model_name="monitoring",
            index=models.Index(fields=["step", "procedure_due"], name="visits_monitoring_proc_due"),
        ),
    ]
