"""One table of chain heads (`hemei.core.chain`) and one of idempotency keys
(`hemei.core.idempotency`) for every app; points and disclosure move their rows here (their
migrations 0004 and 0003)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_calendar_2026'),
        ('regions', '0003_rosterimport'),
    ]

    operations = [
        migrations.CreateModel(
            name='IdempotencyKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('owner', models.CharField(max_length=40)),
                ('key', models.CharField(max_length=100)),
                ('operation', models.CharField(max_length=40)),
                ('payload_hash', models.CharField(max_length=64)),
                ('result_type', models.CharField(blank=True, max_length=40)),
                ('result_ids', models.JSONField(default=list)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('owner', 'key'), name='core_idempotency_key')],
            },
        ),
        migrations.CreateModel(
            name='ChainHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('chain', models.CharField(max_length=30, verbose_name='chain')),
                ('length', models.PositiveIntegerField(default=0, verbose_name='length')),
                ('head_hash', models.CharField(default='0000000000000000000000000000000000000000000000000000000000000000', max_length=64, verbose_name='head hash')),
                ('village', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regions.region', verbose_name='village')),
            ],
            options={
                'verbose_name': 'chain head',
                'verbose_name_plural': 'chain heads',
                'constraints': [models.UniqueConstraint(fields=('chain', 'village'), name='core_chainhead_chain_village')],
            },
        ),
    ]
