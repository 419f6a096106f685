"""Seed the 2026 monitoring income line for 山西 (province code 14).

The figure is a default to be confirmed by the province's yearly notice (DOMAIN.md gives no
number); it is a row, editable in the admin, one per province and year.
"""

from decimal import Decimal
from typing import Any

from django.db import migrations

SEED = [("14", "山西省", 2026, Decimal("7800.00"))]


def forwards(apps: Any, schema_editor: Any) -> None:
    threshold = apps.get_model("visits", "PovertyThreshold")
    for code, name, year, amount in SEED:
        threshold.objects.get_or_create(province_code=code, year=year,
                                        defaults={"province_name": name, "amount": amount})


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
