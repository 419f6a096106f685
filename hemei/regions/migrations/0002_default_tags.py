"""Seed the editable list of household and resident types named in the foundation issue."""

from django.db import migrations

TAGS = [
    # name, applies_to, sensitive
    ("脱贫户", "household", True),
    ("监测户", "household", True),
    ("低保户", "household", True),
    ("特困户", "household", True),
    ("独居老人", "both", True),
    ("留守儿童", "both", True),
    ("残疾人", "resident", True),
    ("党员户", "household", False),
    ("军属", "household", False),
]


def forwards(apps, schema_editor):
    Tag = apps.get_model("regions", "Tag")
    for sort, (name, applies_to, sensitive) in enumerate(TAGS):
        Tag.objects.get_or_create(name=name, defaults={"applies_to": applies_to, "sensitive": sensitive, "sort": sort})


class Migration(migrations.Migration):
    dependencies = [("regions", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
