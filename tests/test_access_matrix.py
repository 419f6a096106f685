"""Personas × objects × read/write: nobody reaches anything out of scope, by list or by guessed id.

Expected visibility of the three households of the conftest world:
  house_a: 西邵村 grid A (the villager's own household)
  house_b: 西邵村 grid B
  house_c: 东邵村 (same township, other village)
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from hemei.regions import services
from hemei.regions.access import access_household, access_households, access_residents

# persona → households it may read, households it may write
MATRIX = {
    "villager": ({"a"}, set()),
    "grid_a": ({"a"}, {"a"}),
    "grid_b": ({"b"}, {"b"}),
    "secretary": ({"a", "b"}, {"a", "b"}),
    "township": ({"a", "b", "c"}, {"a", "b", "c"}),
    "county": ({"a", "b", "c"}, {"a", "b", "c"}),
    "shop": ({"a", "b"}, set()),  # read-only post in the village
    "outsider": (set(), set()),
}


def houses(world):
    return {"a": world.house_a, "b": world.house_b, "c": world.house_c}


@pytest.mark.parametrize("persona", MATRIX)
def test_household_lists_hold_exactly_the_scope(world, persona):
    user = world.user(persona)
    readable, writable = MATRIX[persona]
    by_pk = {h.pk: k for k, h in houses(world).items()}
    assert {by_pk[pk] for pk in access_households(user).values_list("pk", flat=True)} == readable
    assert {by_pk[pk] for pk in access_households(user, write=True).values_list("pk", flat=True)} == writable
    resident_houses = {by_pk[r.household_id] for r in access_residents(user)}
    assert resident_houses == readable


@pytest.mark.parametrize("persona", MATRIX)
@pytest.mark.parametrize("key", ["a", "b", "c"])
def test_guessed_ids_are_not_found(world, persona, key):
    user = world.user(persona)
    readable, writable = MATRIX[persona]
    household = houses(world)[key]
    if key in readable:
        assert access_household(user, household.pk).pk == household.pk
    else:
        with pytest.raises(Http404):
            access_household(user, household.pk)
    if key in writable:
        assert access_household(user, household.pk, write=True).pk == household.pk
    else:
        with pytest.raises((Http404, PermissionDenied)):
            access_household(user, household.pk, write=True)


@pytest.mark.parametrize("persona", ["grid_a", "grid_b", "secretary", "township", "county", "shop", "outsider"])
@pytest.mark.parametrize("key", ["a", "b", "c"])
def test_household_pages_follow_the_scope(world, client, persona, key):
    client.force_login(world.user(persona))
    household = houses(world)[key]
    response = client.get(reverse("household-detail", args=[household.pk]))
    readable, _ = MATRIX[persona]
    assert response.status_code == (200 if key in readable else 404)


@pytest.mark.parametrize("persona", MATRIX)
def test_api_lists_follow_the_scope(world, client, persona):
    client.force_login(world.user(persona))
    readable, _ = MATRIX[persona]
    expected = {houses(world)[k].pk for k in readable}
    data = client.get("/api/v1/households/").json()
    assert {row["id"] for row in data["results"]} == expected
    for key, household in houses(world).items():
        response = client.get(f"/api/v1/households/{household.pk}/")
        assert response.status_code == (200 if key in readable else 404)


@pytest.mark.parametrize("persona", MATRIX)
def test_api_writes_follow_the_scope(world, client, persona):
    client.force_login(world.user(persona))
    _, writable = MATRIX[persona]
    for key, household in houses(world).items():
        resident = household.residents.first()
        response = client.patch(f"/api/v1/residents/{resident.pk}/", {"is_party_member": True},
                                content_type="application/json")
        assert response.status_code == (200 if key in writable else 404), (persona, key)
        resident.refresh_from_db()
        assert resident.is_party_member == (key in writable or resident.pk == world.head_a.pk)


@pytest.mark.parametrize("persona", MATRIX)
def test_page_writes_follow_the_scope(world, client, persona):
    client.force_login(world.user(persona))
    _, writable = MATRIX[persona]
    for key, household in houses(world).items():
        resident = household.residents.first()
        response = client.post(reverse("resident-edit", args=[resident.pk]),
                               {"name": "改名", "relation": resident.relation})
        assert response.status_code in ((302,) if key in writable else (403, 404)), (persona, key)
        resident.refresh_from_db()
        assert (resident.name == "改名") == (key in writable)


def test_a_grid_worker_cannot_create_a_household_in_another_grid(world, client):
    client.force_login(world.user("grid_a"))
    response = client.post("/api/v1/households/", {"grid": world.grid_b.code, "number": "999"},
                           content_type="application/json")
    assert response.status_code in (403, 404)
    assert not world.grid_b.households.filter(number="999").exists()
    ok = client.post("/api/v1/households/", {"grid": world.grid_a.code, "number": "999"},
                     content_type="application/json")
    assert ok.status_code == 201


def test_services_refuse_out_of_scope_actors(world):
    with pytest.raises(PermissionDenied):
        services.resident_update(resident=world.head_b, actor=world.user("grid_a"), name="X")
    with pytest.raises(PermissionDenied):
        services.household_create(grid=world.grid_b, number="555", actor=world.user("grid_a"))


def test_region_filter_outside_scope_is_not_found(world, client):
    client.force_login(world.user("grid_a"))
    assert client.get(f"/api/v1/households/?region={world.grid_b.code}").status_code == 404
    assert client.get(reverse("household-list") + f"?region={world.grid_b.code}").status_code == 404
    assert client.get(f"/api/v1/regions/{world.grid_b.code}/").status_code == 404


def test_villager_sees_only_own_household_and_no_workbench(world, client):
    client.force_login(world.user("villager"))
    assert client.get(reverse("workbench")).status_code == 404
    page = client.get(reverse("villager-home"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "王建国" in body and "李秀英" in body and "张志强" not in body


def test_anonymous_users_are_sent_to_login(world, client):
    assert client.get(reverse("workbench")).status_code == 302
    assert client.get("/api/v1/households/").status_code in (401, 403)
