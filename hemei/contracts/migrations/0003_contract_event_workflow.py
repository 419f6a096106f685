"""Contract events take the shape of every workflow history row (`WorkflowEvent`): they gain
from_state/to_state/data. Existing rows keep everything; their from/to states are derived
from each contract's events in order, so old timelines read like new ones."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


REACHES = {"created": "draft", "discussed": "deciding", "approved": "approved", "activated": "active",
           "terminated": "terminated", "expired": "expired"}


def backfill(apps, schema_editor):
    Event = apps.get_model("contracts", "ContractEvent")
    Contract = apps.get_model("contracts", "Contract")
    state: dict[int, str] = {}
    changed = []
    for event in Event.objects.order_by("contract_id", "at", "id").iterator():
        to = REACHES.get(event.kind)
        if event.kind == "signed":
            contract = Contract.objects.get(pk=event.contract_id)
            to = "active" if contract.signed_on and contract.start <= contract.signed_on else "signed"
        if to is None:
            continue  # tabled, decided, paid, flagged, reminded…: no change of state
        event.from_state = state.get(event.contract_id, "")
        event.to_state = to
        state[event.contract_id] = to
        changed.append(event)
    Event.objects.bulk_update(changed, ["from_state", "to_state"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('contracts', '0002_trust_parcel_code_end'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='contractevent',
            name='data',
            field=models.JSONField(blank=True, default=dict, verbose_name='data'),
        ),
        migrations.AddField(
            model_name='contractevent',
            name='from_state',
            field=models.CharField(blank=True, max_length=20, verbose_name='from state'),
        ),
        migrations.AddField(
            model_name='contractevent',
            name='to_state',
            field=models.CharField(blank=True, max_length=20, verbose_name='to state'),
        ),
        migrations.AlterField(
            model_name='contractevent',
            name='actor',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='actor'),
        ),
        migrations.AlterField(
            model_name='contractevent',
            name='note',
            field=models.TextField(blank=True, max_length=4000, verbose_name='note'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
