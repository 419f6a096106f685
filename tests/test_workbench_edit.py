"""Workbench pages that change the register: add/edit households and residents, tags, moves,
联户 links. Each page: works for an allowed persona (row + audit row), refuses targets out of
the write scope (404/403, nothing changed), shows bad input as a form error (nothing changed),
and is closed to read-only personas.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.regions import services
from hemei.regions.models import Household, HouseholdLink, MoveRecord, Post, Resident, Tag
from tests.conftest import new_id


@pytest.fixture
def tags(db):
    return {
        "poor": Tag.objects.create(name="测试户甲", applies_to=Tag.AppliesTo.HOUSEHOLD),
        "both": Tag.objects.create(name="测试户乙", applies_to=Tag.AppliesTo.BOTH),
        "elder": Tag.objects.create(name="测试人丙", applies_to=Tag.AppliesTo.RESIDENT),
        "retired": Tag.objects.create(name="测试旧标签", applies_to=Tag.AppliesTo.BOTH, active=False),
    }


def last_audit(obj, action=None):
    qs = AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    if action:
        qs = qs.filter(action=action)
    return qs.order_by("-id").first()


def audit_count():
    return AuditEntry.objects.count()


def form_errors(response):
    assert response.status_code == 200, response.status_code
    form = response.context["form"]
    assert form.errors, "expected the form to show an error"
    return form.errors


# --- add a household ---------------------------------------------------------------------


def test_grid_worker_adds_a_household_in_own_grid(world, client, tags):
    client.force_login(world.user("grid_a"))
    url = reverse("household-create", args=[world.grid_a.code])
    page = client.get(url)
    assert page.status_code == 200
    assert "grid" not in page.context["form"].fields  # the grid is fixed
    offered = set(page.context["form"].fields["tags"].queryset)
    assert {tags["poor"], tags["both"]} <= offered  # no resident-only, no retired tags:
    assert not offered & {tags["elder"], tags["retired"]}
    response = client.post(url, {"number": "002", "address": "西邵村一街2号",
                                 "tags": [tags["poor"].pk], "lives_in_village": "on"})
    household = Household.objects.get(village=world.village, number="002")
    assert response.status_code == 302 and response.url == reverse("household-detail", args=[household.pk])
    assert household.region == world.grid_a and household.county == world.county
    assert list(household.tags.all()) == [tags["poor"]] and household.lives_in_village
    entry = last_audit(household, AuditEntry.Action.CREATE)
    assert entry.actor == world.user("grid_a")
    assert entry.changes["number"] == [None, "002"] and entry.changes["grid"] == [None, world.grid_a.code]
    assert "002" in client.get(response.url).content.decode()


def test_secretary_adds_a_household_from_the_village_choosing_a_grid(world, client):
    client.force_login(world.user("secretary"))
    url = reverse("household-create", args=[world.village.code])
    page = client.get(url)
    assert set(page.context["form"].fields["grid"].queryset) == {world.grid_a, world.grid_b}
    response = client.post(url, {"grid": world.grid_b.pk, "number": "102"})
    assert response.status_code == 302
    household = Household.objects.get(village=world.village, number="102")
    assert household.region == world.grid_b and not household.lives_in_village
    # A grid of another village cannot be smuggled in.
    before = Household.objects.count()
    errors = form_errors(client.post(url, {"grid": world.grid_c.pk, "number": "103"}))
    assert "grid" in errors and Household.objects.count() == before


def test_household_create_refuses_a_grid_out_of_scope(world, client):
    client.force_login(world.user("grid_a"))
    before = Household.objects.count()
    for code in (world.grid_b.code, world.village.code, world.grid_c.code):
        url = reverse("household-create", args=[code])
        assert client.get(url).status_code in (403, 404)
        assert client.post(url, {"number": "999", "grid": world.grid_b.pk}).status_code in (403, 404)
    assert Household.objects.count() == before


@pytest.mark.parametrize("number", ["001", "101", "", "   "])
def test_household_create_bad_numbers_show_an_error(world, client, number):
    """001 exists in grid A, 101 in grid B of the same village (numbers are per village)."""
    client.force_login(world.user("grid_a"))
    before, entries = Household.objects.count(), audit_count()
    response = client.post(reverse("household-create", args=[world.grid_a.code]), {"number": number})
    form_errors(response)
    assert Household.objects.count() == before and audit_count() == entries


def test_household_create_from_a_township_asks_for_a_village_or_grid(world, client):
    client.force_login(world.user("township"))
    response = client.get(reverse("household-create", args=[world.township.code]))
    assert response.status_code == 302 and world.township.code in response.url


def test_household_create_refuses_a_resident_only_tag(world, client, tags):
    client.force_login(world.user("grid_a"))
    for tag in (tags["elder"], tags["retired"]):
        errors = form_errors(client.post(reverse("household-create", args=[world.grid_a.code]),
                                         {"number": "003", "tags": [tag.pk]}))
        assert "tags" in errors
    assert not Household.objects.filter(number="003").exists()


# --- add a resident ----------------------------------------------------------------------


def test_grid_worker_adds_a_resident(world, client, tags):
    client.force_login(world.user("grid_a"))
    url = reverse("resident-create", args=[world.house_a.pk])
    assert client.get(url).status_code == 200
    number = new_id(dt.date(2001, 3, 4), male=False)
    response = client.post(url, {"name": "王小红", "id_number": number, "phone": "138 0000 5555",
                                 "relation": "child", "tags": [tags["elder"].pk, tags["both"].pk]})
    assert response.status_code == 302 and response.url == reverse("household-detail", args=[world.house_a.pk])
    resident = Resident.objects.get(id_number=number)
    assert resident.household == world.house_a and resident.region == world.grid_a
    assert resident.sex == "F" and resident.birth_date == dt.date(2001, 3, 4)
    assert resident.phone == "13800005555" and not resident.is_party_member
    assert set(resident.tags.all()) == {tags["elder"], tags["both"]}
    entry = last_audit(resident, AuditEntry.Action.CREATE)
    assert entry.changes == {"name": [None, "王小红"], "household": [None, "001"]}
    assert number not in str(entry.changes)


def bad_check_digit() -> str:
    good = new_id()
    return good[:17] + ("0" if good[17] != "0" else "1")


@pytest.mark.parametrize("case", ["check_digit", "duplicate", "phone", "blank_name"])
def test_resident_create_bad_input_shows_an_error(world, client, case):
    client.force_login(world.user("grid_a"))
    data = {"name": "赵六", "id_number": new_id(), "relation": "other", "phone": ""}
    if case == "check_digit":
        data["id_number"] = bad_check_digit()
    elif case == "duplicate":
        data["id_number"] = world.head_b.id_number
    elif case == "phone":
        data["phone"] = "12345"
    else:
        data["name"] = "  "
    before, entries = Resident.objects.count(), audit_count()
    errors = form_errors(client.post(reverse("resident-create", args=[world.house_a.pk]), data))
    if case in ("check_digit", "duplicate"):
        assert "id_number" in errors
    assert Resident.objects.count() == before and audit_count() == entries


def test_resident_create_refuses_a_household_out_of_scope(world, client):
    client.force_login(world.user("grid_a"))
    before = Resident.objects.count()
    url = reverse("resident-create", args=[world.house_b.pk])
    assert client.get(url).status_code == 404
    response = client.post(url, {"name": "赵六", "id_number": new_id(), "relation": "other"})
    assert response.status_code == 404 and Resident.objects.count() == before


# --- edit a household --------------------------------------------------------------------


def test_grid_worker_edits_a_household(world, client, tags):
    client.force_login(world.user("grid_a"))
    world.house_a.tags.add(tags["both"])
    url = reverse("household-edit", args=[world.house_a.pk])
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"].initial["address"] == "西邵村一街1号"
    response = client.post(url, {"address": "西邵村新街8号", "tags": [tags["poor"].pk]})
    assert response.status_code == 302 and response.url == reverse("household-detail", args=[world.house_a.pk])
    world.house_a.refresh_from_db()
    assert world.house_a.address == "西邵村新街8号" and not world.house_a.lives_in_village
    assert list(world.house_a.tags.all()) == [tags["poor"]]
    entry = last_audit(world.house_a, AuditEntry.Action.UPDATE)
    assert entry.changes == {
        "address": ["西邵村一街1号", "西邵村新街8号"],
        "lives_in_village": [True, False],
        "tags": [["测试户乙"], ["测试户甲"]],
    }
    assert entry.actor == world.user("grid_a")
    # Saving again without a change writes no audit row.
    entries = audit_count()
    client.post(url, {"address": "西邵村新街8号", "tags": [tags["poor"].pk]})
    assert audit_count() == entries


def test_household_edit_refuses_out_of_scope(world, client):
    client.force_login(world.user("grid_a"))
    url = reverse("household-edit", args=[world.house_b.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"address": "X", "lives_in_village": "on"}).status_code == 404
    world.house_b.refresh_from_db()
    assert world.house_b.address == "西邵村二街1号"


def test_household_update_service_checks_tags_and_scope(world, tags):
    actor = world.user("grid_a")
    with pytest.raises(ValidationError):
        services.household_update(household=world.house_a, actor=actor, tags=[tags["elder"]])
    with pytest.raises(ValidationError):
        services.household_update(household=world.house_a, actor=actor, tags=[tags["retired"]])
    assert not world.house_a.tags.exists()
    # A tag retired after it was set may stay on the household.
    world.house_a.tags.add(tags["retired"])
    services.household_update(household=world.house_a, actor=actor, tags=[tags["retired"], tags["poor"]])
    assert set(world.house_a.tags.all()) == {tags["retired"], tags["poor"]}
    with pytest.raises(PermissionDenied):
        services.household_update(household=world.house_b, actor=actor, address="X")


# --- resident tags -----------------------------------------------------------------------


def test_resident_tags_from_the_edit_page(world, client, tags):
    client.force_login(world.user("grid_a"))
    edit = client.get(reverse("resident-edit", args=[world.head_a.pk]))
    body = edit.content.decode()
    assert reverse("resident-tags", args=[world.head_a.pk]) in body and "测试人丙" in body
    assert "测试户甲" not in body  # household-only tag is not offered
    response = client.post(reverse("resident-tags", args=[world.head_a.pk]),
                           {"tags": [tags["elder"].pk, tags["both"].pk]})
    assert response.status_code == 302
    assert set(world.head_a.tags.all()) == {tags["elder"], tags["both"]}
    entry = last_audit(world.head_a, AuditEntry.Action.UPDATE)
    assert entry.changes == {"tags": [[], ["测试人丙", "测试户乙"]]}
    client.post(reverse("resident-tags", args=[world.head_a.pk]), {})
    assert not world.head_a.tags.exists()
    assert last_audit(world.head_a).changes == {"tags": [["测试人丙", "测试户乙"], []]}


def test_resident_tags_refuse_wrong_tags_and_scope(world, client, tags):
    client.force_login(world.user("grid_a"))
    entries = audit_count()
    errors = form_errors(client.post(reverse("resident-tags", args=[world.head_a.pk]),
                                     {"tags": [tags["poor"].pk]}))
    assert "tags" in errors and not world.head_a.tags.exists()
    assert client.post(reverse("resident-tags", args=[world.head_b.pk]),
                       {"tags": [tags["elder"].pk]}).status_code == 404
    assert not world.head_b.tags.exists() and audit_count() == entries
    with pytest.raises(ValidationError):
        services.resident_set_tags(resident=world.head_a, tags=[tags["poor"]], actor=world.user("grid_a"))


# --- move a resident ---------------------------------------------------------------------


def spouse_a(world):
    return world.house_a.residents.get(relation="spouse")


def test_resident_move_searches_only_the_write_scope(world, client):
    client.force_login(world.user("grid_a"))
    page = client.get(reverse("resident-move", args=[spouse_a(world).pk]), {"q": "101"})
    assert page.status_code == 200 and page.context["results"] == []
    client.force_login(world.user("secretary"))
    page = client.get(reverse("resident-move", args=[spouse_a(world).pk]), {"q": "1"})
    assert [h.pk for h in page.context["results"]] == [world.house_b.pk]


def test_secretary_moves_a_resident(world, client):
    client.force_login(world.user("secretary"))
    resident = spouse_a(world)
    today = dt.date.today().isoformat()
    response = client.post(reverse("resident-move", args=[resident.pk]),
                           {"q": "101", "to_household": world.house_b.pk, "on": today, "reason": "婚嫁"})
    assert response.status_code == 302 and response.url == reverse("household-detail", args=[world.house_b.pk])
    resident.refresh_from_db()
    assert resident.household == world.house_b and resident.region == world.grid_b
    record = MoveRecord.objects.get(resident=resident)
    assert record.from_household == world.house_a and record.reason == "婚嫁"
    assert last_audit(resident).changes == {"household": ["001", "101"]}


def test_resident_move_into_another_grid_is_not_found_for_a_grid_worker(world, client):
    client.force_login(world.user("grid_a"))
    resident = spouse_a(world)
    response = client.post(reverse("resident-move", args=[resident.pk]), {
        "to_household": world.house_b.pk, "on": dt.date.today().isoformat(), "reason": "x"})
    assert response.status_code == 404
    resident.refresh_from_db()
    assert resident.household == world.house_a and not MoveRecord.objects.exists()
    # Nor may grid B's worker move grid A's resident away.
    client.force_login(world.user("grid_b"))
    response = client.post(reverse("resident-move", args=[resident.pk]), {
        "to_household": world.house_b.pk, "on": dt.date.today().isoformat(), "reason": "x"})
    assert response.status_code == 404 and not MoveRecord.objects.exists()


@pytest.mark.parametrize("case", ["same_household", "future", "no_reason", "no_target"])
def test_resident_move_bad_input_shows_an_error(world, client, case):
    client.force_login(world.user("secretary"))
    resident = spouse_a(world)
    data = {"q": "1", "to_household": world.house_b.pk, "on": dt.date.today().isoformat(), "reason": "x"}
    if case == "same_household":
        data["to_household"] = world.house_a.pk
    elif case == "future":
        data["on"] = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    elif case == "no_reason":
        data["reason"] = ""
    else:
        del data["to_household"]
    entries = audit_count()
    form_errors(client.post(reverse("resident-move", args=[resident.pk]), data))
    resident.refresh_from_db()
    assert resident.household == world.house_a and not MoveRecord.objects.exists() and audit_count() == entries


# --- move a household --------------------------------------------------------------------


def test_secretary_moves_a_household_to_another_grid(world, client):
    client.force_login(world.user("secretary"))
    url = reverse("household-move", args=[world.house_a.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert world.grid_b.code in page.content.decode()
    assert world.grid_c.code not in page.content.decode()  # another village: outside the scope
    assert f'value="{dt.date.today().isoformat()}"' in page.content.decode()  # ISO for <input type=date>
    response = client.post(url, {"to_grid": world.grid_b.code, "on": dt.date.today().isoformat(),
                                 "reason": "网格调整"})
    assert response.status_code == 302 and response.url == reverse("household-detail", args=[world.house_a.pk])
    world.house_a.refresh_from_db()
    assert world.house_a.region == world.grid_b
    assert set(world.house_a.residents.values_list("region_id", flat=True)) == {world.grid_b.pk}
    assert last_audit(world.house_a).changes == {"grid": [world.grid_a.code, world.grid_b.code]}
    assert MoveRecord.objects.get(household=world.house_a, resident=None).reason == "网格调整"


def test_household_move_into_a_grid_out_of_scope_is_not_found(world, client):
    client.force_login(world.user("grid_a"))
    response = client.post(reverse("household-move", args=[world.house_a.pk]), {
        "to_grid": world.grid_b.code, "on": dt.date.today().isoformat(), "reason": "x"})
    assert response.status_code == 404
    world.house_a.refresh_from_db()
    assert world.house_a.region == world.grid_a and not MoveRecord.objects.exists()


@pytest.mark.parametrize("case", ["village", "same_grid", "number_taken", "no_date"])
def test_household_move_bad_input_shows_an_error(world, client, case):
    client.force_login(world.user("township"))
    data = {"to_grid": world.grid_b.code, "on": dt.date.today().isoformat(), "reason": "x"}
    if case == "village":
        data["to_grid"] = world.village2.code
    elif case == "same_grid":
        data["to_grid"] = world.grid_a.code
    elif case == "number_taken":
        data["to_grid"] = world.grid_c.code  # 东邵村 already has a household 001
    else:
        data["on"] = ""
    entries = audit_count()
    form_errors(client.post(reverse("household-move", args=[world.house_a.pk]), data))
    world.house_a.refresh_from_db()
    assert world.house_a.region == world.grid_a and not MoveRecord.objects.exists() and audit_count() == entries


# --- 联户 links ---------------------------------------------------------------------------


def test_secretary_links_a_household_to_a_party_member_and_a_cadre(world, client):
    client.force_login(world.user("secretary"))
    url = reverse("household-link", args=[world.house_b.pk])
    page = client.get(url)
    choices = dict(page.context["form"].fields["who"].choices)
    offered = {k for group in choices.values() for k, _label in group}
    grid_post = Post.objects.get(user=world.user("grid_b"))
    shop_post = Post.objects.get(user=world.user("shop"))
    villager_post = Post.objects.get(user=world.user("villager"))
    assert f"r{world.head_a.pk}" in offered and f"p{grid_post.pk}" in offered
    assert f"r{world.head_b.pk}" not in offered  # not a party member
    assert f"p{shop_post.pk}" not in offered and f"p{villager_post.pk}" not in offered
    assert client.post(url, {"who": f"r{world.head_a.pk}"}).status_code == 302
    assert client.post(url, {"who": f"p{grid_post.pk}"}).status_code == 302
    links = {(link.kind, link.resident_id, link.post_id) for link in world.house_b.links.all()}
    assert links == {(HouseholdLink.Kind.PARTY_MEMBER, world.head_a.pk, None),
                     (HouseholdLink.Kind.CADRE, None, grid_post.pk)}
    entry = AuditEntry.objects.filter(object_type="regions.householdlink").order_by("-id").first()
    assert entry.changes == {"household": [None, "101"], "kind": [None, "cadre"], "linked": [None, "grid2"]}
    # An existing link is not offered again; posting it anyway is a form error.
    errors = form_errors(client.post(url, {"who": f"r{world.head_a.pk}"}))
    assert "who" in errors and world.house_b.links.count() == 2
    body = client.get(reverse("household-detail", args=[world.house_b.pk])).content.decode()
    assert "王建国" in body


@pytest.mark.parametrize("who", ["not_party_member", "other_village", "villager_post", "garbage"])
def test_household_link_refuses_bad_choices(world, client, who):
    client.force_login(world.user("township"))
    value = {
        "not_party_member": lambda: f"r{world.head_b.pk}",
        "other_village": lambda: f"r{world.head_c.pk}",
        "villager_post": lambda: f"p{Post.objects.get(user=world.user('villager')).pk}",
        "garbage": lambda: "x1",
    }[who]()
    if who == "other_village":
        services.resident_update(resident=world.head_c, actor=SYSTEM, is_party_member=True)
    form_errors(client.post(reverse("household-link", args=[world.house_a.pk]), {"who": value}))
    assert not HouseholdLink.objects.exists()


def test_household_link_refuses_a_household_of_another_grid(world, client):
    client.force_login(world.user("grid_a"))
    url = reverse("household-link", args=[world.house_b.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"who": f"r{world.head_a.pk}"}).status_code == 404
    assert not HouseholdLink.objects.exists()


# --- read-only personas, CSRF, buttons, query counts ------------------------------------


def edit_requests(world, tags):
    today = dt.date.today().isoformat()
    return [
        (reverse("household-create", args=[world.grid_a.code]), {"number": "777"}),
        (reverse("household-create", args=[world.village.code]), {"number": "777", "grid": world.grid_a.pk}),
        (reverse("household-edit", args=[world.house_a.pk]), {"address": "改了"}),
        (reverse("resident-create", args=[world.house_a.pk]),
         {"name": "赵六", "id_number": new_id(), "relation": "other"}),
        (reverse("resident-tags", args=[world.head_a.pk]), {"tags": [tags["elder"].pk]}),
        (reverse("resident-move", args=[world.head_a.pk]),
         {"to_household": world.house_b.pk, "on": today, "reason": "x"}),
        (reverse("household-move", args=[world.house_a.pk]), {"to_grid": world.grid_b.code, "on": today,
                                                               "reason": "x"}),
        (reverse("household-link", args=[world.house_a.pk]), {"who": f"r{world.head_a.pk}"}),
    ]


@pytest.mark.parametrize("persona", ["shop", "villager", "outsider"])
def test_read_only_personas_get_no_edit_page(world, client, tags, persona):
    client.force_login(world.user(persona))
    entries = audit_count()
    counts = (Household.objects.count(), Resident.objects.count(), MoveRecord.objects.count())
    for url, data in edit_requests(world, tags):
        assert client.get(url).status_code in (403, 404), url
        assert client.post(url, data).status_code in (403, 404), url
    assert audit_count() == entries
    assert (Household.objects.count(), Resident.objects.count(), MoveRecord.objects.count()) == counts
    assert not HouseholdLink.objects.exists() and not world.head_a.tags.exists()
    world.house_a.refresh_from_db()
    assert world.house_a.address == "西邵村一街1号" and world.house_a.region == world.grid_a


def test_anonymous_users_are_sent_to_login(world, client, tags):
    for url, data in edit_requests(world, tags):
        response = client.post(url, data)
        assert response.status_code == 302 and "login" in response.url
    assert not HouseholdLink.objects.exists()


def test_changes_need_the_csrf_token(world, tags):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user("county"))
    for url, data in edit_requests(world, tags):
        assert client.post(url, data).status_code == 403, url
    world.house_a.refresh_from_db()
    assert world.house_a.address == "西邵村一街1号" and not HouseholdLink.objects.exists()


def test_buttons_show_only_to_writers(world, client):
    edit_url = reverse("household-edit", args=[world.house_a.pk])
    create_url = reverse("household-create", args=[world.village.code])
    client.force_login(world.user("grid_a"))
    detail = client.get(reverse("household-detail", args=[world.house_a.pk])).content.decode()
    assert edit_url in detail and reverse("household-link", args=[world.house_a.pk]) in detail
    assert reverse("resident-create", args=[world.house_a.pk]) in detail
    bench = client.get(reverse("workbench"), {"region": world.grid_a.code}).content.decode()
    assert reverse("household-create", args=[world.grid_a.code]) in bench
    client.force_login(world.user("secretary"))
    assert create_url in client.get(reverse("workbench"), {"region": world.village.code}).content.decode()
    client.force_login(world.user("township"))
    bench = client.get(reverse("workbench"), {"region": world.township.code}).content.decode()
    assert reverse("household-create", args=[world.township.code]) not in bench  # pick a village first
    client.force_login(world.user("shop"))
    detail = client.get(reverse("household-detail", args=[world.house_a.pk])).content.decode()
    assert edit_url not in detail and "/links/new/" not in detail and "/residents/new/" not in detail
    bench = client.get(reverse("workbench"), {"region": world.village.code}).content.decode()
    assert create_url not in bench


def test_household_page_queries_do_not_grow_with_links_and_tags(world, client):
    client.force_login(world.user("secretary"))
    url = reverse("household-detail", args=[world.house_a.pk])
    client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    cadre_posts = [Post.objects.get(user=world.user(p)) for p in ("grid_a", "shop")]
    for n in range(8):
        tag = Tag.objects.create(name=f"标签{n}")
        world.house_a.tags.add(tag)
        for resident in world.house_a.residents.all():
            resident.tags.add(tag)
        member = services.resident_create(actor=SYSTEM, household=world.house_b, name=f"党员{n}", id_number=new_id(),
                                          is_party_member=True)
        services.household_link_create(actor=SYSTEM, household=world.house_a, kind=HouseholdLink.Kind.PARTY_MEMBER,
                                       resident=member)
        if n < len(cadre_posts):  # the same cadre links a household once
            services.household_link_create(actor=SYSTEM, household=world.house_a, kind=HouseholdLink.Kind.CADRE,
                                           post=cadre_posts[n])
    with CaptureQueriesContext(connection) as big:
        response = client.get(url)
    assert len(response.context["links"]) == 10 and len(response.context["tags"]) == 8
    assert len(big) == len(small), [q["sql"] for q in big.captured_queries]


def test_resident_move_search_reads_the_posted_number_first_and_ignores_an_overlong_one(world, client):
    client.force_login(world.user("secretary"))
    url = reverse("resident-move", args=[spouse_a(world).pk])
    # The page's own hidden input wins over its address; a blank one falls back to the address.
    page = client.post(f"{url}?q=9", {"q": "1"})
    assert page.status_code == 200 and [h.pk for h in page.context["results"]] == [world.house_b.pk]
    page = client.post(f"{url}?q=1", {"q": ""})
    assert page.status_code == 200 and [h.pk for h in page.context["results"]] == [world.house_b.pk]
    # Over-long is no search at all (`picked`: a search that cannot be read is ignored).
    page = client.post(url, {"q": "1" * 101})
    assert page.status_code == 200 and not page.context.get("results")
