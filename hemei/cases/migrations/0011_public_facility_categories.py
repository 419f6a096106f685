"""Add 公共设施 to the default case catalogue: street lights, fitness equipment and public
toilets (issue 15: "there is no 公共设施/路灯 category"). Each is repair work someone must come
and do → a request for help (10 working days). The seeds' 消防隐患 and 食品安全 are in 0002.
Idempotent like 0002: rows already present are left as the county administrators edited them.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

HELP = {"kind": "help", "accept_hours": None, "resolve_working_days": 10, "resolve_hours": None}
# Sorted just after 道路交通 (sort 2) in the list a villager chooses from.
PUBLIC_FACILITIES = ["公共设施：路灯", "公共设施：健身器材", "公共设施：公厕"]


def forwards(apps: Any, schema_editor: Any) -> None:
    Category = apps.get_model("cases", "Category")
    for name in PUBLIC_FACILITIES:
        if not Category.objects.filter(county__isnull=True, name=name).exists():
            Category.objects.create(name=name, sort=2, active=True, **HELP)


def backwards(apps: Any, schema_editor: Any) -> None:
    Category = apps.get_model("cases", "Category")
    Category.objects.filter(county__isnull=True, name__in=PUBLIC_FACILITIES, cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0010_unpublished_complaint_category")]
    operations = [migrations.RunPython(forwards, backwards)]
