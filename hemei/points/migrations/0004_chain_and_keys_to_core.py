"""The points chain heads and idempotency keys move to core (`hemei.core.chain`, kind "points";
`hemei.core.idempotency`). The points chain already uses the one encoding and genesis, so
every stored entry hash stays as it is: only the head rows are copied (sequence → length)."""

from django.db import migrations


def forwards(apps, schema_editor):
    Head = apps.get_model("core", "ChainHead")
    Key = apps.get_model("core", "IdempotencyKey")
    Head.objects.bulk_create(
        [Head(chain="points", village_id=h.village_id, length=h.sequence, head_hash=h.head_hash)
         for h in apps.get_model("points", "ChainHead").objects.all()],
        batch_size=2000,
    )
    old = apps.get_model("points", "IdempotencyKey").objects.all().order_by("pk")
    Key.objects.bulk_create(
        [Key(owner=k.owner, key=k.key, operation=k.operation, payload_hash=k.payload_hash,
             result_type=k.result_type, result_ids=k.result_ids, created_at=k.created_at)
         for k in old.iterator(chunk_size=5000)],
        batch_size=5000,
    )


def backwards(apps, schema_editor):
    OldHead = apps.get_model("points", "ChainHead")
    OldKey = apps.get_model("points", "IdempotencyKey")
    heads = apps.get_model("core", "ChainHead").objects.filter(chain="points")
    OldHead.objects.bulk_create(
        [OldHead(village_id=h.village_id, sequence=h.length, head_hash=h.head_hash) for h in heads]
    )
    OldKey.objects.bulk_create(
        [OldKey(owner=k.owner, key=k.key, operation=k.operation, payload_hash=k.payload_hash,
                result_type=k.result_type, result_ids=k.result_ids, created_at=k.created_at)
         for k in apps.get_model("core", "IdempotencyKey").objects.exclude(operation="cases.submit")]
    )
    heads.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("points", "0003_ranking_and_reset"),
        ("core", "0005_chainhead_idempotencykey"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.RemoveConstraint(model_name="idempotencykey", name="points_idempotency_key"),
        migrations.DeleteModel(name="IdempotencyKey"),
        migrations.DeleteModel(name="ChainHead"),
    ]
