"""Case submissions use the one idempotency mechanism (`hemei.core.idempotency`): each case
submitted with a key by an account gets the key row that mechanism would have written, so a
retry of a submission made before this migration still replays its case (and a different
payload under its key is still a conflict). `Case.idempotency_key` stays: Open311 looks cases up
by the token it answered with.

The payload hash is frozen here (the operation name and fields `case_submit` hashes)."""

import hashlib
import json

from django.db import migrations


def _hash(payload):
    text = json.dumps({"op": "cases.submit", **payload}, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def forwards(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Key = apps.get_model("core", "IdempotencyKey")
    cases = Case.objects.exclude(idempotency_key="").filter(created_by__isnull=False).order_by("pk")
    rows = []
    for case in cases.iterator(chunk_size=5000):
        payload = {"region": case.region_id, "category": case.category_id, "title": case.title,
                   "description": case.description, "household": case.household_id}
        rows.append(Key(owner=f"user:{case.created_by_id}", key=case.idempotency_key, operation="cases.submit",
                        payload_hash=_hash(payload), result_type="cases.case", result_ids=[case.pk],
                        created_at=case.created_at))
    Key.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)


def backwards(apps, schema_editor):
    apps.get_model("core", "IdempotencyKey").objects.filter(operation="cases.submit").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_late_since_and_first_rating"),
        ("core", "0005_chainhead_idempotencykey"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
