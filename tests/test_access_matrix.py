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


# --- generated from the registry of scoped models (hemei.core.scope.REGISTRY) -------------
#
# Every model an app registers with `register_scoped` gets one row placed in 西邵村 (on
# house_a / grid A, or on the village itself for rows that belong to a village) and one in
# 东邵村, built field by field from the model's own definition, so a newly registered model is
# in the matrix without writing anything here. Each persona must then list, fetch by id and
# reach for writing exactly the rows its posts cover.

import datetime as dt  # noqa: E402
import importlib  # noqa: E402
import itertools  # noqa: E402
import uuid  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.apps import apps as django_apps  # noqa: E402
from django.db import models  # noqa: E402
from django.utils import timezone  # noqa: E402

from hemei.core import scope as core_scope  # noqa: E402
from hemei.regions.models import Household, Region  # noqa: E402

SCOPED_APPS = ["regions", "cases", "visits", "points", "disclosure", "contracts", "assets", "meetings", "stars",
               "courtyard", "care", "devices", "party", "services", "policies"]
for _app in SCOPED_APPS:
    importlib.import_module(f"hemei.{_app}.access")

# Models that carry a region or household but are not read per user on their own, and why.
NOT_SCOPED = {
    "core.ChainHead": "a chain's length and head hash, public by design (boards and prints show it)",
    "core.Freshness": "version counters of cached public pages: a topic name, a place id and a number",
    "regions.Post": "managed through access_managed_posts (manager grants, not read scope)",
    "regions.MoveRecord": "shown only inside a household or resident already fetched in scope",
    "regions.HouseholdLink": "shown only inside a household already fetched in scope",
    "regions.RosterImport": "an import's report, shown to the importer",
    "cases.Category": "county configuration, public",
    "cases.CaseCounter": "number sequence, never shown",
    "notify.Notification": "addressed to one user (access_notifications filters by recipient)",
    "disclosure.DisclosureChain": "the chain head of published texts, public",
    "disclosure.ScheduleSettings": "read with the village fetched through access_village",
    "disclosure.AnnualIncome": "read with the village fetched through access_village",
    "points.RuleSet": "the village's public rules (公示), read with the village",
    "points.ChainHead": "the chain head of effective entries, public",
    "points.Account": "balances, read through a household fetched in scope",
    "stars.Star": "the village's public catalogue",
    "stars.HouseholdStar": "a household's current stars, public on the village board",
    "courtyard.Submission": "read through an event fetched with access_event",
    "courtyard.Result": "read through an event fetched with access_event",
    "care.Threshold": "read with the elder fetched through access_elder",
    "devices.DeviceMessage": "a device's message log, shown only inside a device fetched in scope",
    "devices.AlarmRule": "county configuration (the alarm catalogue), edited in the admin",
    "policies.Policy": "a public catalogue of its area, read by everyone it reaches (policies.access_policies)",
}

# persona → (the region of each post, its role); the expectations below follow from these.
PERSONA_POSTS = {
    "villager": [],
    "grid_a": [("grid_a", "grid_worker")],
    "grid_b": [("grid_b", "grid_worker")],
    "secretary": [("village", "secretary")],
    "township": [("township", "township_staff")],
    "county": [("county", "county_admin")],
    "shop": [("village", "shop_keeper")],
    "outsider": [],
}
READ_ONLY = {"shop_keeper"}  # posts that read their subtree but may not change households


def test_every_model_with_a_place_is_registered_or_explained():
    for model in django_apps.get_models():
        if not model.__module__.startswith("hemei."):
            continue
        placed = any(f.is_relation and f.related_model in (Region, Household) for f in model._meta.fields)
        if placed and model not in core_scope.REGISTRY:
            assert model._meta.label in NOT_SCOPED, f"{model._meta.label}: register_scoped it in its app's access.py"


_counter = itertools.count()
# Values the field-by-field builder cannot guess (check constraints between fields).
OVERRIDES = {
    "cases.Category": {"resolve_working_days": 5},
    "contracts.Contract": {"start": dt.date(2026, 1, 1), "end": dt.date(2030, 12, 31)},
    "contracts.TrustParcel": {"entrusted_from": dt.date(2026, 1, 1), "entrusted_to": dt.date(2030, 12, 31)},
    "care.Institution": {"beds": 10, "occupied": 5},
    "care.DutyShift": {"starts_at": dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC),
                       "ends_at": dt.datetime(2026, 6, 2, 8, tzinfo=dt.UTC)},
}


def _place_regions(world, home: bool, village_level: bool):
    village = world.village if home else world.village2
    grid = world.grid_a if home else world.grid_c
    house = world.house_a if home else world.house_c
    return village, (village if village_level else grid), house


def _value(field: models.Field):
    n = next(_counter)
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, (models.IntegerField, models.FloatField)):
        return 1 + n % 7
    if isinstance(field, models.DecimalField):
        return Decimal("1.00")
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return dt.date(2026, 6, 1)
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    if isinstance(field, (models.CharField, models.TextField, models.FileField)):
        return f"m{n}"[: getattr(field, "max_length", None) or 20]
    raise NotImplementedError(f"{field.model._meta.label}.{field.name}")


def build_row(model, world, *, home: bool, village_level: bool, made: dict):
    """One row of `model` in 西邵村 (home) or 东邵村, every required field filled."""
    key = (model, home)
    if key in made:
        return made[key]
    village, region, house = _place_regions(world, home, village_level)
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.is_relation:
            target = field.related_model
            if target is Region:
                values[field.name] = world.county if field.name == "county" else (
                    village if field.name == "village" else region)
            elif target is Household:
                values[field.name] = house
            elif not field.null:
                values[field.name] = (world.user("secretary") if target._meta.label == "accounts.User" else
                                      build_row(target, world, home=home, village_level=village_level, made=made))
            continue
        if field.has_default() or field.null or (field.blank and isinstance(field, (models.CharField,
                                                                                    models.TextField))):
            continue
        values[field.name] = _value(field)
    values.update(OVERRIDES.get(model._meta.label, {}))
    row = model._default_manager.bulk_create([model(**values)])[0]
    made[key] = row
    return row


def _covers(world, persona: str, row_region: Region, *, write: bool = False, village_wide: bool = False) -> bool:
    for name, role in PERSONA_POSTS[persona]:
        post = getattr(world, name)
        if write and role in READ_ONLY:
            continue
        if row_region.path.startswith(post.path):
            return True
        if village_wide and not write and row_region.level == "village" and post.path.startswith(row_region.path):
            return True
    return False


REGISTERED = sorted(core_scope.REGISTRY.values(), key=lambda r: r.model._meta.label)


@pytest.mark.parametrize("registration", REGISTERED, ids=[r.model._meta.label for r in REGISTERED])
def test_registered_models_follow_the_scope(world, registration):
    model = registration.model
    village_level = registration.village_wide or not registration.via.endswith(("region__", "household__"))
    made: dict = {}
    rows = {home: build_row(model, world, home=home, village_level=village_level, made=made)
            for home in (True, False)}
    for persona in PERSONA_POSTS:
        user = world.user(persona)
        listed = set(registration.queryset(user).filter(pk__in=[r.pk for r in rows.values()])
                     .values_list("pk", flat=True))
        writable = set(registration.queryset(user, write=True).filter(pk__in=[r.pk for r in rows.values()])
                       .values_list("pk", flat=True))
        for home, row in rows.items():
            region = registration.region_of(row)
            own = persona == "villager" and _lookup(row, registration.households) == world.house_a.pk
            expected = own or _covers(world, persona, region, village_wide=registration.village_wide)
            where = (persona, "西邵村" if home else "东邵村")
            assert (row.pk in listed) == expected, where
            assert core_scope.fetch(model, user, row.pk).pk == row.pk if expected else \
                _not_found(model, user, row.pk), where
            assert (row.pk in writable) == _covers(world, persona, region, write=True), where
            for action, roles in registration.actions.items():
                allowed = any(role in roles and region.path.startswith(getattr(world, name).path)
                              for name, role in PERSONA_POSTS[persona])
                assert core_scope.may(user, action, row) == allowed, (*where, action)


def _lookup(row, path: str | None):
    """The value at a lookup path ("reporter__household_id") of a row; None where it breaks off."""
    value = row
    for part in (path or "").split("__") if path else ():
        value = getattr(value, part, None)
        if value is None:
            return None
    return value if path else None


def _not_found(model, user, pk) -> bool:
    with pytest.raises(Http404):
        core_scope.fetch(model, user, pk)
    return True


# --- the ledger REST endpoints (hemei.core.ledger_api) follow the same registrations ---------

from django.db import IntegrityError, transaction  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from hemei.core.ledger_api import LEDGERS  # noqa: E402


@pytest.mark.parametrize("ledger", LEDGERS, ids=[ledger.prefix for ledger in LEDGERS])
def test_ledger_endpoints_follow_the_scope(world, ledger):
    model = django_apps.get_model(ledger.model_path)
    registration = core_scope.registration(model)
    village_level = registration.village_wide or not registration.via.endswith(("region__", "household__"))
    made: dict = {}
    rows = [build_row(model, world, home=home, village_level=village_level, made=made) for home in (True, False)]
    if ledger.filters:
        try:  # a published version needs its chain and review: then it stays unlisted (and unfetched)
            with transaction.atomic():
                model._default_manager.filter(pk__in=[r.pk for r in rows]).update(**ledger.filters)
        except IntegrityError:
            pass
    for persona in PERSONA_POSTS:
        user = world.user(persona)
        expected = set(registration.queryset(user).filter(pk__in=[r.pk for r in rows], **ledger.filters)
                       .values_list("pk", flat=True))
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        response = api.get(f"/api/v1/{ledger.prefix}/")
        assert response.status_code == 200, (persona, response.content)
        assert {r["id"] for r in response.json()["results"]} == expected, persona
        for row in rows:
            detail = api.get(f"/api/v1/{ledger.prefix}/{row.pk}/")
            assert detail.status_code == (200 if row.pk in expected else 404), (persona, row.pk)
            if detail.status_code == 200:
                assert set(detail.json()) == set(ledger.fields), persona
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=world.user('grid_a'))[0].key}")
    assert other.get(f"/api/v1/{ledger.prefix}/", {"village": world.village2.code}).status_code == 404


def test_ledger_endpoints_never_show_phones_or_accounts():
    for ledger in LEDGERS:
        assert not {"party_phone", "created_by", "author", "actor", "declared_by", "attendees",
                    "reviewed_by", "published_by", "convened_by"} & set(ledger.fields), ledger.prefix
