"""Seed the category of a villager's complaint that the village did not publish what it must
(村民委员会组织法 art. 31): a complaint (15 working days) that starts at the township tier.
Idempotent like 0002: a row already present is left as the county edited it."""

from __future__ import annotations

from typing import Any

from django.db import migrations

NAME = "村务未公开"


def forwards(apps: Any, schema_editor: Any) -> None:
    Category = apps.get_model("cases", "Category")
    if not Category.objects.filter(county__isnull=True, name=NAME).exists():
        Category.objects.create(name=NAME, kind="complaint", sort=11, active=True, accept_hours=None,
                                resolve_working_days=15, resolve_hours=None, start_tier="township")


def backwards(apps: Any, schema_editor: Any) -> None:
    apps.get_model("cases", "Category").objects.filter(county__isnull=True, name=NAME, cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0009_case_location_and_start_tier")]
    operations = [migrations.RunPython(forwards, backwards)]
