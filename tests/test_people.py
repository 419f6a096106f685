"""Regions, households, residents and posts: the rules of the register."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from hemei.core.idnumbers import make_id_number
from hemei.core.scope import SYSTEM
from hemei.regions import services
from hemei.regions.models import Household, MoveRecord, Resident
from hemei.regions.selectors import region_counts
from tests.conftest import new_id


def test_region_codes_must_extend_the_parent(world):
    with pytest.raises(ValidationError):
        services.region_create(actor=SYSTEM, name="错", level="grid", code="140110101299001", parent=world.village)
    with pytest.raises(ValidationError):
        services.region_create(actor=SYSTEM, name="短", level="village", code="1401101012", parent=world.township)
    with pytest.raises(ValidationError):
        services.region_create(actor=SYSTEM, name="重", level="grid", code=world.grid_a.code, parent=world.village)
    grid = services.region_create(actor=SYSTEM,
                                  name="第三网格", level="grid", code="140110101201003", parent=world.village)
    assert grid.path.startswith(world.village.path)


def test_resident_sex_and_birth_come_from_the_id_number(world):
    number = make_id_number("140110", dt.date(2001, 2, 3), 124)  # even sequence → female
    r = services.resident_create(actor=SYSTEM, household=world.house_a, name="王小红", id_number=number.lower())
    assert (r.sex, r.birth_date, r.name_initials, r.id_tail) == ("F", dt.date(2001, 2, 3), "wxh", number[-4:])


def test_a_given_sex_or_birth_date_must_match(world):
    with pytest.raises(ValidationError):
        services.resident_create(actor=SYSTEM, household=world.house_a, name="甲", id_number=new_id(), sex="F")
    with pytest.raises(ValidationError):
        services.resident_create(actor=SYSTEM, household=world.house_a, name="乙", id_number=new_id(),
                                 birth_date=dt.date(1999, 1, 1))


def test_an_id_number_is_registered_once(world):
    with pytest.raises(ValidationError):
        services.resident_create(actor=SYSTEM, household=world.house_b, name="重复", id_number=world.head_a.id_number)
    assert Resident.objects.filter(id_number=world.head_a.id_number).count() == 1


def test_bad_id_numbers_and_phones_change_nothing(world):
    before = Resident.objects.count()
    bad = world.head_a.id_number[:17] + ("1" if world.head_a.id_number[17] != "1" else "2")
    with pytest.raises(ValidationError):
        services.resident_create(actor=SYSTEM, household=world.house_a, name="错号", id_number=bad)
    with pytest.raises(ValidationError):
        services.resident_create(actor=SYSTEM,
                                 household=world.house_a, name="错电话", id_number=new_id(), phone="12345")
    assert Resident.objects.count() == before


def test_a_new_head_replaces_the_old_one(world):
    son = services.resident_create(actor=SYSTEM,
                                   household=world.house_a, name="王小明", id_number=new_id(dt.date(1995, 3, 3)),
                                   relation="head")
    world.house_a.refresh_from_db()
    world.head_a.refresh_from_db()
    assert world.house_a.head == son
    assert world.head_a.relation == Resident.Relation.OTHER


def test_moving_a_resident_keeps_history(world):
    services.resident_move(resident=world.head_a, to_household=world.house_b, on=dt.date(2026, 3, 1),
                           reason="婚迁", actor=world.user("secretary"))
    world.head_a.refresh_from_db()
    world.house_a.refresh_from_db()
    assert world.head_a.household == world.house_b and world.head_a.region == world.grid_b
    assert world.house_a.head is None
    move = MoveRecord.objects.get(resident=world.head_a)
    assert (move.from_household, move.from_region, move.to_region) == (world.house_a, world.grid_a, world.grid_b)


def test_moving_a_household_moves_its_residents(world):
    services.household_move(household=world.house_a, to_grid=world.grid_b, on=dt.date(2026, 3, 1),
                            actor=world.user("secretary"))
    assert set(Resident.objects.filter(household=world.house_a).values_list("region", flat=True)) == {world.grid_b.pk}
    assert MoveRecord.objects.filter(household=world.house_a, resident__isnull=True).count() == 1


def test_a_grid_worker_cannot_move_someone_into_another_grid(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.resident_move(resident=world.head_a, to_household=world.house_b, on=dt.date(2026, 3, 1),
                               actor=world.user("grid_a"))
    world.head_a.refresh_from_db()
    assert world.head_a.household == world.house_a


def test_status_changes_keep_the_date(world):
    services.resident_set_status(resident=world.head_b, status="deceased", on=dt.date(2026, 5, 1),
                                 actor=world.user("grid_b"))
    world.head_b.refresh_from_db()
    assert (world.head_b.status, world.head_b.status_date) == ("deceased", dt.date(2026, 5, 1))
    assert region_counts(world.village)["residents"] == 2  # the deceased no longer counts


def test_derived_counts_roll_up(world):
    assert region_counts(world.township) == {"households": 3, "residents": 4, "grids": 3}
    assert region_counts(world.grid_a)["households"] == 1


def test_household_numbers_are_unique_per_village(world):
    with pytest.raises(ValidationError):
        services.household_create(actor=SYSTEM, grid=world.grid_b, number="001")
    # The same number in another village is fine.
    assert services.household_create(actor=SYSTEM, grid=world.grid_c, number="101").village == world.village2
    assert Household.objects.filter(number="001").count() == 2


def test_households_belong_to_grids(world):
    with pytest.raises(ValidationError):
        services.household_create(actor=SYSTEM, grid=world.township, number="777")


def test_party_member_links(world):
    from hemei.regions.models import HouseholdLink, Post

    link = services.household_link_create(actor=SYSTEM,
                                          household=world.house_b, kind="party_member", resident=world.head_a)
    assert link.resident == world.head_a
    with pytest.raises(ValidationError):
        services.household_link_create(actor=SYSTEM,
                                       household=world.house_a, kind="party_member", resident=world.head_b)
    cadre = Post.objects.get(user=world.user("secretary"))
    services.household_link_create(actor=SYSTEM, household=world.house_a, kind="cadre", post=cadre)
    assert HouseholdLink.objects.count() == 2


def test_a_closed_grid_keeps_its_history(world):
    with pytest.raises(ValidationError) as exc:  # households still live there
        services.region_close(actor=SYSTEM, region=world.grid_c, on=dt.date(2026, 6, 30))
    assert exc.value.code == "not_empty"
    new_grid = services.region_create(actor=SYSTEM,
                                      name="新网格", level="grid", code="140110101202002", parent=world.village2)
    services.household_move(household=world.house_c, to_grid=new_grid, on=dt.date(2026, 6, 30),
                            reason="网格调整", actor=SYSTEM)
    services.region_close(actor=SYSTEM, region=world.grid_c, on=dt.date(2026, 6, 30), merged_into=new_grid)
    world.grid_c.refresh_from_db()
    assert world.grid_c.valid_to == dt.date(2026, 6, 30) and not world.grid_c.is_current
    # The move still names the old grid.
    assert MoveRecord.objects.get(household=world.house_c).from_region == world.grid_c
    with pytest.raises(ValidationError) as exc:
        services.region_close(actor=SYSTEM, region=world.grid_c, on=dt.date(2026, 7, 1))
    assert exc.value.code == "closed"
    with pytest.raises(ValidationError) as exc:  # a grid does not merge into a village
        services.region_close(actor=SYSTEM, region=new_grid, on=dt.date(2026, 7, 1), merged_into=world.village)
    assert exc.value.code == "level"


def test_a_head_who_stops_being_head_leaves_the_household_headless(world):
    from hemei.core.verify import check_household_places

    services.resident_update(resident=world.head_a, actor=world.user("grid_a"), relation="spouse")
    world.house_a.refresh_from_db()
    assert world.house_a.head is None
    services.resident_set_status(resident=world.head_b, status="deceased", on=dt.date(2026, 5, 1),
                                 actor=world.user("grid_b"))
    world.house_b.refresh_from_db()
    assert world.house_b.head is None
    assert check_household_places() == []


def test_verify_names_a_household_with_two_heads(world):
    from hemei.core.verify import check_household_places

    Resident.objects.filter(household=world.house_a).update(relation="head")  # behind the services' back
    assert any("more than one" in p for p in check_household_places())


def test_closed_grids_and_villages_take_no_households(world):
    with pytest.raises(ValidationError):
        services.household_create(actor=SYSTEM, grid=world.village, number="888")
    world.grid_b.valid_to = dt.date(2020, 1, 1)
    world.grid_b.save()
    with pytest.raises(ValidationError):
        services.household_create(actor=SYSTEM, grid=world.grid_b, number="889")
    with pytest.raises(ValidationError):
        services.household_move(household=world.house_a, to_grid=world.grid_b, on=dt.date(2026, 1, 1),
                                actor=SYSTEM)


def test_a_villager_post_needs_a_resident_of_the_region(world):
    from hemei.regions.models import Role

    with pytest.raises(ValidationError):
        services.post_assign(actor=SYSTEM, user=world.user("outsider"), region=world.village, role=Role.VILLAGER,
                             resident=world.head_c)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.post_assign(user=world.user("outsider"), region=world.grid_b, role=Role.GRID_WORKER,
                             actor=world.user("grid_a"))


def test_links_are_scoped_unique_and_within_the_village(world):
    from django.core.exceptions import PermissionDenied

    services.household_link_create(actor=SYSTEM, household=world.house_b, kind="party_member", resident=world.head_a)
    with pytest.raises(ValidationError):  # twice
        services.household_link_create(actor=SYSTEM,
                                       household=world.house_b, kind="party_member", resident=world.head_a)
    with pytest.raises(ValidationError):  # 王建国 lives in 西邵村, 东邵村's household is elsewhere
        services.household_link_create(actor=SYSTEM,
                                       household=world.house_c, kind="party_member", resident=world.head_a)
    with pytest.raises(PermissionDenied):
        services.household_link_create(household=world.house_b, kind="party_member", resident=world.head_a,
                                       actor=world.user("grid_a"))
