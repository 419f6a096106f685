"""Disclosure events take the shape of every workflow history row (`WorkflowEvent`): they
gain from_state/to_state/data. Existing rows keep everything they had; their from/to states
are derived from each version's events in order (the kind of a step names the state it
reaches), so the timeline of old versions reads like that of new ones."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# The state each kind of event leaves the version in; "edited" moves nothing.
REACHES = {"created": "draft", "correction": "draft", "submitted": "submitted", "approved": "approved",
           "returned": "returned", "published": "published"}


def backfill(apps, schema_editor):
    Event = apps.get_model("disclosure", "DisclosureEvent")
    state: dict[int, str] = {}
    changed = []
    for event in Event.objects.order_by("version_id", "at", "id").iterator():
        to = REACHES.get(event.kind)
        if to is None:
            continue
        event.from_state = "" if event.kind in ("created", "correction") else state.get(event.version_id, "")
        event.to_state = to
        state[event.version_id] = to
        changed.append(event)
    # Historical models are plain models here (no append-only manager), so a bulk update works.
    Event.objects.bulk_update(changed, ["from_state", "to_state"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('disclosure', '0003_one_chain'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='disclosureevent',
            name='data',
            field=models.JSONField(blank=True, default=dict, verbose_name='data'),
        ),
        migrations.AddField(
            model_name='disclosureevent',
            name='from_state',
            field=models.CharField(blank=True, max_length=20, verbose_name='from state'),
        ),
        migrations.AddField(
            model_name='disclosureevent',
            name='to_state',
            field=models.CharField(blank=True, max_length=20, verbose_name='to state'),
        ),
        migrations.AlterField(
            model_name='disclosureevent',
            name='actor',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='actor'),
        ),
        migrations.AlterField(
            model_name='disclosureevent',
            name='note',
            field=models.TextField(blank=True, max_length=4000, verbose_name='note'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
