"""Append-only audit log; masked personal data everywhere unless revealed (and each reveal audited)."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from hemei.core.models import AppendOnlyError, AuditEntry
from hemei.regions import services


def test_every_write_leaves_an_audit_row(world):
    before = AuditEntry.objects.count()
    services.resident_update(resident=world.head_a, actor=world.user("grid_a"), name="王建军")
    entry = AuditEntry.objects.order_by("-id").first()
    assert AuditEntry.objects.count() == before + 1
    assert entry.action == "update" and entry.actor_name == "grid1"
    assert entry.changes == {"name": ["王建国", "王建军"]}
    assert entry.county_code == "140110"


def test_the_orm_refuses_to_change_audit_rows(world):
    entry = AuditEntry.objects.first()
    entry.note = "tampered"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(note="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


def test_the_database_refuses_to_update_audit_rows(world):
    pk = AuditEntry.objects.first().pk
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET note = 'x' WHERE id = %s", [pk])
    assert AuditEntry.objects.get(pk=pk).note != "x"


@pytest.mark.postgres_only
def test_the_database_refuses_to_delete_audit_rows(world):
    if connection.vendor != "postgresql":
        pytest.fail("this test runs in the PostgreSQL pass")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry")
    assert AuditEntry.objects.exists()


def test_pages_show_masked_personal_data(world, client):
    client.force_login(world.user("grid_a"))
    body = client.get(reverse("household-detail", args=[world.house_a.pk])).content.decode()
    assert world.head_a.id_number not in body
    assert world.head_a.id_masked in body
    assert "13800001111" not in body and "138****1111" in body
    assert "/reveal/" not in body  # no reveal buttons without the permission


def test_api_shows_masked_personal_data_even_to_revealers(world, client):
    client.force_login(world.user("secretary"))
    rows = client.get(f"/api/v1/residents/?household={world.house_a.pk}").json()["results"]
    assert {r["id_number"] for r in rows} == {r.id_masked for r in world.house_a.residents.all()}
    assert all("*" in r["phone"] for r in rows)


def test_reveal_needs_the_permission_and_is_audited(world, client):
    url = reverse("resident-reveal", args=[world.head_a.pk, "id_number"])
    client.force_login(world.user("grid_a"))
    assert client.post(url).status_code == 403
    assert not AuditEntry.objects.filter(action="reveal").exists()
    client.force_login(world.user("secretary"))
    response = client.post(url)
    assert response.status_code == 200 and world.head_a.id_number in response.content.decode()
    entry = AuditEntry.objects.get(action="reveal")
    assert entry.actor_name == "secretary" and entry.object_id == str(world.head_a.pk)
    assert entry.changes == {"field": "id_number"}


def test_api_reveal_is_audited(world, client):
    client.force_login(world.user("county"))
    response = client.post(f"/api/v1/residents/{world.head_b.pk}/reveal/", {"field": "phone"},
                           content_type="application/json")
    assert response.json()["value"] == "13900003333"
    assert AuditEntry.objects.filter(action="reveal", actor_name="county").count() == 1
    client.force_login(world.user("grid_b"))
    denied = client.post(f"/api/v1/residents/{world.head_b.pk}/reveal/", {"field": "phone"},
                         content_type="application/json")
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "scope"  # the error vocabulary of docs/api.md


def test_reveal_out_of_scope_is_not_found(world, client):
    client.force_login(world.user("secretary"))
    url = reverse("resident-reveal", args=[world.head_c.pk, "id_number"])
    assert client.post(url).status_code == 404
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_audit_changes_never_hold_clear_personal_data(world):
    services.resident_update(resident=world.head_a, actor=world.user("grid_a"), phone="13511112222")
    entry = AuditEntry.objects.order_by("-id").first()
    assert "13511112222" not in str(entry.changes)


def test_county_admins_browse_their_county_audit_log(world, client):
    from hemei.core.audit import audit_record

    audit_record(actor="system", action="create", object_type="x", object_repr="other county row", county_code="140105")
    client.force_login(world.user("county"))
    page = client.get(reverse("audit-log"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "other county row" not in body
    assert "王建国" in body
    filtered = client.get(reverse("audit-log") + "?action=reveal").content.decode()
    assert "王建国" not in filtered
    for persona in ("grid_a", "secretary", "township", "villager"):
        client.force_login(world.user(persona))
        assert client.get(reverse("audit-log")).status_code == 403


def test_audit_filters_ignore_malformed_dates(world, client):
    client.force_login(world.user("county"))
    response = client.get(reverse("audit-log") + "?from=garbage&to=2026-13-45")
    assert response.status_code == 200
    assert "王建国" in response.content.decode()


def test_only_superusers_change_posts_in_the_admin_and_it_is_audited(world, client):
    from django.contrib.auth.models import Permission

    from hemei.accounts.models import User
    from hemei.regions.models import Post

    county = world.user("county")
    county.is_staff = True
    county.save()
    county.user_permissions.add(*Permission.objects.filter(codename__in=["add_post", "change_post", "view_post"]))
    client.force_login(User.objects.get(pk=county.pk))
    data = {"user": world.user("outsider").pk, "region": world.county.pk, "role": "county_admin",
            "started_on": "2026-01-01"}
    response = client.post("/admin/regions/post/add/", data)
    assert response.status_code == 403
    assert not Post.objects.filter(user=world.user("outsider")).exists()
    admin = User.objects.create_superuser("root", password="Root-pass-2026")
    client.force_login(admin)
    response = client.post("/admin/regions/post/add/", data)
    assert response.status_code == 302
    post = Post.objects.get(user=world.user("outsider"))
    assert AuditEntry.objects.filter(object_type="regions.post", object_id=str(post.pk), actor_name="root").exists()
