"""Published disclosure versions join the one hash-chain mechanism (`hemei.core.chain`).

The disclosure chain started from "" where every chain now starts from the genesis of 64
zeros, so each village's chain is re-derived: walking its versions in sequence, the first
links to the genesis and every hash is recomputed over the same content under the one
encoding. The heads move to `core.ChainHead` (kind "disclosure"). Each re-derived village gets
an audit row with its old and new head, so a notice printed with the old head can still be
traced. On PostgreSQL the published-version guard (migration 0002) is disabled for the
rewrite and enabled again in the same transaction.

The encoding and the hashed fields are frozen here (not imported): this migration must give
the same result whatever the application code becomes.
"""

import datetime as dt
import hashlib
import json

from django.db import migrations
from django.utils import timezone

GENESIS = "0" * 64
TABLE = "disclosure_disclosureversion"
TRIGGER = "disclosure_disclosureversion_published_guard"


def _hash(payload):
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _payload(v, *, code, sequence, prev_hash, attachments):
    d = v.disclosure
    return {
        "village": code,
        "sequence": sequence,
        "prev_hash": prev_hash,
        "disclosure": d.pk,
        "kind": d.kind,
        "period": [d.period_start.isoformat(), d.period_end.isoformat()],
        "version": v.number,
        "title": v.title,
        "body": v.body,
        "data": v.data,
        "reason": v.reason,
        "reviewed_by": v.reviewed_by_id,
        "published_at": v.published_at.astimezone(dt.UTC).isoformat() if v.published_at else None,
        "attachments": sorted(attachments),
    }


def _rederive(apps, schema_editor, *, genesis, old_genesis):
    Version = apps.get_model("disclosure", "DisclosureVersion")
    Attachment = apps.get_model("disclosure", "DisclosureAttachment")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")
    files = {}
    for version_id, sha in Attachment.objects.filter(version__sequence__isnull=False).values_list(
        "version_id", "sha256"
    ):
        files.setdefault(version_id, []).append(sha)
    heads = {}
    chained = (
        Version.objects.filter(sequence__isnull=False)
        .select_related("disclosure", "village")
        .order_by("village_id", "sequence")
    )
    for v in chained.iterator(chunk_size=2000):
        code, prev_old, prev_new, _n = heads.get(v.village_id, (v.village.code, old_genesis, genesis, 0))
        payload = _payload(v, code=code, sequence=v.sequence, prev_hash=prev_new, attachments=files.get(v.pk, []))
        digest = _hash(payload)
        Version.objects.filter(pk=v.pk).update(prev_hash=prev_new, hash=digest)
        heads[v.village_id] = (code, v.hash, digest, v.sequence)
    if postgres:
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")
    return heads


def forwards(apps, schema_editor):
    Head = apps.get_model("core", "ChainHead")
    Audit = apps.get_model("core", "AuditEntry")
    old_heads = {c.village_id: c for c in apps.get_model("disclosure", "DisclosureChain").objects.all()}
    heads = _rederive(apps, schema_editor, genesis=GENESIS, old_genesis="")
    now = timezone.now()
    for village_id, old in old_heads.items():
        code, old_hash, new_hash, length = heads.get(village_id, ("", "", GENESIS, 0))
        Head.objects.create(chain="disclosure", village_id=village_id, length=length, head_hash=new_hash)
        if length:
            Audit.objects.create(
                at=now, actor_name="system:migration", action="update", object_type="core.chainhead",
                object_repr=f"disclosure chain of {code}", county_code=code[:6],
                changes={"length": length, "head_hash": [old.head_hash, new_hash], "genesis": ["", GENESIS]},
                note="disclosure chain re-derived from the one genesis (hemei.core.chain)",
            )


def backwards(apps, schema_editor):
    OldHead = apps.get_model("disclosure", "DisclosureChain")
    heads = _rederive(apps, schema_editor, genesis="", old_genesis=GENESIS)
    stored = apps.get_model("core", "ChainHead").objects.filter(chain="disclosure")
    for head in stored:
        _code, _old, new_hash, length = heads.get(head.village_id, ("", "", "", 0))
        OldHead.objects.create(village_id=head.village_id, length=length, head_hash=new_hash if length else "")
    stored.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("disclosure", "0002_published_guard"),
        ("core", "0005_chainhead_idempotencykey"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.DeleteModel(name="DisclosureChain"),
    ]
