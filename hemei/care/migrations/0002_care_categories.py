"""The eldercare categories of the default catalogue: answered within minutes, day and night.

The minutes come from HEMEI_CARE_RESPONSE_MINUTES when the category is created (default 15,
the seed's "served within 15 minutes"); a county edits its own rows afterwards."""

from django.conf import settings
from django.db import migrations

CATEGORIES = [
    # name, kind, hours to resolve, order
    ("紧急呼叫", "urgent", 2, 90),
    ("生活服务", "help", 2, 91),
    ("健康异常", "urgent", 2, 92),
]


def create(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    minutes = getattr(settings, "HEMEI_CARE_RESPONSE_MINUTES", 15)
    for name, kind, hours, sort in CATEGORIES:
        Category.objects.get_or_create(county=None, name=name, defaults={
            "kind": kind, "accept_minutes": minutes, "resolve_hours": hours, "sort": sort,
            "self_service": False})


def remove(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    Category.objects.filter(county=None, name__in=[c[0] for c in CATEGORIES], cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0001_initial"),
        ("cases", "0009_accept_minutes"),
    ]

    operations = [migrations.RunPython(create, remove)]
