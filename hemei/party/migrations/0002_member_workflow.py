"""A membership's lifecycle becomes the workflow `party.member`: `Member.status` (current, or
left once transferred out) and `MemberEvent` in the shape of every workflow's history. Rows
that already left (a `left_on` date) are marked left, and each event's state columns filled
from its kind."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def forwards(apps, schema_editor):
    Member = apps.get_model("party", "Member")
    MemberEvent = apps.get_model("party", "MemberEvent")
    Member.objects.filter(left_on__isnull=False).update(status="left")
    MemberEvent.objects.filter(kind__in=["joined", "transfer_in"]).update(to_state="current")
    MemberEvent.objects.filter(kind__in=["confirmed", "group"]).update(from_state="current", to_state="current")
    MemberEvent.objects.filter(kind="transfer_out").update(from_state="current", to_state="left")


class Migration(migrations.Migration):

    dependencies = [
        ('party', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='member',
            name='status',
            field=models.CharField(choices=[('current', 'current'), ('left', 'transferred out')], default='current', max_length=10, verbose_name='status'),
        ),
        migrations.AddField(
            model_name='memberevent',
            name='data',
            field=models.JSONField(blank=True, default=dict, verbose_name='data'),
        ),
        migrations.AddField(
            model_name='memberevent',
            name='from_state',
            field=models.CharField(blank=True, max_length=20, verbose_name='from state'),
        ),
        migrations.AddField(
            model_name='memberevent',
            name='to_state',
            field=models.CharField(blank=True, max_length=20, verbose_name='to state'),
        ),
        migrations.AlterField(
            model_name='memberevent',
            name='actor',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='actor'),
        ),
        migrations.AlterField(
            model_name='memberevent',
            name='at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='time'),
        ),
        migrations.AlterField(
            model_name='memberevent',
            name='kind',
            field=models.CharField(choices=[('joined', 'joined'), ('transfer_in', 'transferred in'), ('transfer_out', 'transferred out'), ('confirmed', 'confirmed as full member'), ('group', 'party group changed')], max_length=30, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='memberevent',
            name='note',
            field=models.TextField(blank=True, max_length=4000, verbose_name='note'),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
