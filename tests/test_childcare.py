"""Childcare places (托育, issue 17 item 3): places never exceeded (also by many clerks at once
on PostgreSQL), the waiting list's order, no queue jumping without a written reason, places
given back, scope, bad input, the public page (figures only), the staff pages, the export,
the API and the demo."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from openpyxl import load_workbook

from hemei.core.models import AuditEntry
from hemei.core.scope import system
from hemei.services import childcare
from hemei.services.models import ChildcareApplication, ChildcareEvent, ChildcareProvider
from tests.conftest import World, at

S = ChildcareApplication.Status
NOW = at(2026, 6, 1, 9)
TODAY = dt.date(2026, 6, 1)
pytestmark = pytest.mark.usefixtures("_frozen")


@pytest.fixture
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def centre(world: World) -> ChildcareProvider:
    return childcare.provider_create(actor=world.user("secretary"), region=world.village, name="西邵村托育中心",
                                     capacity=3, address="村委会西侧", phone="0351-6012345")


def apply(world: World, provider: ChildcareProvider, n: int, *, minutes: int = 0, actor=None,
          born: dt.date = dt.date(2024, 3, 15), **kw) -> ChildcareApplication:
    """The n-th family's application, entered `minutes` after 9:00 on TODAY."""
    return childcare.application_create(
        actor=actor or world.user("secretary"), provider=provider, child_name=kw.pop("child_name", f"王小{n}"),
        child_birth_date=born, guardian_name=kw.pop("guardian_name", "王建国"),
        guardian_phone=kw.pop("guardian_phone", f"138{n:08d}"), desired_start=kw.pop("desired_start", TODAY),
        idempotency_key=kw.pop("key", f"app-{n}"), now=NOW + dt.timedelta(minutes=minutes), **kw)


def refused(code: str, fn, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        fn(*args, **kwargs)
    assert caught.value.code == code, caught.value.messages
    return caught.value


def counts(provider: ChildcareProvider) -> tuple[int, int]:
    provider.refresh_from_db()
    return provider.enrolled, provider.offered


# --- places ---------------------------------------------------------------------------------


def test_it_offers_places_until_the_centre_is_full_and_then_refuses(world: World, centre) -> None:
    secretary = world.user("secretary")
    for n in range(4):
        apply(world, centre, n, minutes=n)
    for _ in range(3):
        childcare.application_offer_next(actor=secretary, provider=centre)
    assert counts(centre) == (0, 3)
    last = ChildcareApplication.objects.get(status=S.APPLIED)
    refused("full", childcare.application_offer, actor=secretary, application=last)
    last.refresh_from_db()
    assert last.status == S.APPLIED and counts(centre) == (0, 3)


def test_enrolling_keeps_the_place_and_the_counts_follow_each_move(world: World, centre) -> None:
    secretary = world.user("secretary")
    a = apply(world, centre, 1)
    childcare.application_offer(actor=secretary, application=a)
    childcare.application_enrol(actor=secretary, application=a)
    assert counts(centre) == (1, 0) and a.enrolled_on == TODAY
    childcare.application_leave(actor=secretary, application=a, note="升入幼儿园")
    assert counts(centre) == (0, 0) and a.status == S.LEFT
    assert list(a.events.values_list("kind", flat=True)) == ["applied", "offer", "enrol", "leave"]


def test_a_stale_centre_in_memory_cannot_overfill(world: World, centre) -> None:
    """The check is the database's row, not the caller's copy of the centre."""
    secretary = world.user("secretary")
    apps = [apply(world, centre, n, minutes=n) for n in range(4)]
    stale = ChildcareApplication.objects.get(pk=apps[3].pk)
    for a in apps[:3]:
        childcare.application_offer(actor=secretary, application=a)
    refused("full", childcare.application_offer, actor=secretary, application=stale, skip_reason="x")
    assert counts(centre) == (0, 3)


def test_a_bare_transition_cannot_overfill_either(world: World, centre) -> None:
    """The workflow's hook takes the place whatever code makes the move."""
    from hemei.core.workflow import transition

    ChildcareProvider.objects.filter(pk=centre.pk).update(capacity=1)
    a, b = apply(world, centre, 1), apply(world, centre, 2, minutes=1)
    transition(a, S.OFFERED, actor=system("test"), move="offer")
    with pytest.raises(ValidationError), transaction.atomic():
        transition(b, S.OFFERED, actor=system("test"), move="offer")
    b.refresh_from_db()
    assert b.status == S.APPLIED and counts(centre) == (0, 1)


def test_the_database_refuses_more_children_than_places(world: World, centre) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ChildcareProvider.objects.filter(pk=centre.pk).update(enrolled=2, offered=2)


def test_withdrawing_an_offer_gives_the_place_back(world: World, centre) -> None:
    secretary = world.user("secretary")
    apps = [apply(world, centre, n, minutes=n) for n in range(4)]
    for a in apps[:3]:
        childcare.application_offer(actor=secretary, application=a)
    refused("full", childcare.application_offer, actor=secretary, application=apps[3])
    childcare.application_withdraw(actor=secretary, application=apps[0], reason="家长另有安排")
    assert counts(centre) == (0, 2)
    childcare.application_offer(actor=secretary, application=apps[3])
    assert counts(centre) == (0, 3)
    assert apps[0].events.last().note == "家长另有安排"


def test_declining_gives_the_place_back_and_withdrawing_a_waiting_one_changes_no_count(world: World,
                                                                                       centre) -> None:
    secretary = world.user("secretary")
    a, b = apply(world, centre, 1), apply(world, centre, 2, minutes=1)
    childcare.application_offer(actor=secretary, application=a)
    childcare.application_decline(actor=secretary, application=a, reason="离家太远")
    assert counts(centre) == (0, 0) and a.status == S.DECLINED
    childcare.application_withdraw(actor=secretary, application=b, reason="搬家")
    assert counts(centre) == (0, 0)


def test_leaving_gives_the_place_back(world: World, centre) -> None:
    secretary = world.user("secretary")
    ChildcareProvider.objects.filter(pk=centre.pk).update(capacity=1)
    a, b = apply(world, centre, 1), apply(world, centre, 2, minutes=1)
    childcare.application_offer(actor=secretary, application=a)
    childcare.application_enrol(actor=secretary, application=a)
    refused("full", childcare.application_offer_next, actor=secretary, provider=centre)
    childcare.application_leave(actor=secretary, application=a)
    assert childcare.application_offer_next(actor=secretary, provider=centre).pk == b.pk


def test_moves_outside_the_table_are_refused(world: World, centre) -> None:
    secretary = world.user("secretary")
    a = apply(world, centre, 1)
    refused("transition", childcare.application_enrol, actor=secretary, application=a)
    refused("transition", childcare.application_decline, actor=secretary, application=a)
    childcare.application_offer(actor=secretary, application=a)
    childcare.application_enrol(actor=secretary, application=a)
    refused("transition", childcare.application_withdraw, actor=secretary, application=a, reason="x")
    assert counts(centre) == (1, 0)


def test_a_withdrawal_needs_a_reason_and_changes_nothing_without_one(world: World, centre) -> None:
    a = apply(world, centre, 1)
    childcare.application_offer(actor=world.user("secretary"), application=a)
    with pytest.raises(ValidationError):
        childcare.application_withdraw(actor=world.user("secretary"), application=a, reason="  ")
    a.refresh_from_db()
    assert a.status == S.OFFERED and counts(centre) == (0, 1)


# --- the waiting list -----------------------------------------------------------------------


def test_the_waiting_list_is_in_order_of_application_then_id(world: World, centre) -> None:
    late = apply(world, centre, 1, minutes=30)
    early = apply(world, centre, 2, minutes=5)
    same_a = apply(world, centre, 3, minutes=10)
    same_b = apply(world, centre, 4, minutes=10)
    assert list(childcare.waiting(centre.pk)) == [early, same_a, same_b, late]
    from hemei.services.selectors import provider_lists

    rows = provider_lists(world.user("secretary"), centre)[S.APPLIED]
    assert [(r.position, r.application.pk) for r in rows] == [(1, early.pk), (2, same_a.pk), (3, same_b.pk),
                                                            (4, late.pk)]


def test_offer_next_goes_to_the_head_of_the_list(world: World, centre) -> None:
    apply(world, centre, 1, minutes=20)
    head = apply(world, centre, 2, minutes=1)
    offered = childcare.application_offer_next(actor=world.user("secretary"), provider=centre)
    assert offered.pk == head.pk and offered.status == S.OFFERED


def test_skipping_the_head_needs_a_written_reason(world: World, centre) -> None:
    secretary = world.user("secretary")
    apply(world, centre, 1, minutes=1)
    apply(world, centre, 2, minutes=2)
    third = apply(world, centre, 3, minutes=3)
    error = refused("skip", childcare.application_offer, actor=secretary, application=third)
    assert "2" in " ".join(error.messages)
    refused("skip", childcare.application_offer, actor=secretary, application=third, skip_reason="   ")
    third.refresh_from_db()
    assert third.status == S.APPLIED and counts(centre) == (0, 0)
    childcare.application_offer(actor=secretary, application=third, skip_reason="双胞胎之一已在园，按村规优先")
    event = ChildcareEvent.objects.get(application=third, kind="offer")
    assert event.note == "双胞胎之一已在园，按村规优先" and event.data == {"position": 3, "skipped": 2}
    audit = AuditEntry.objects.filter(object_type="services.childcareapplication", object_id=str(third.pk),
                                      action="update").get()
    assert audit.changes["skip_reason"] == [None, "双胞胎之一已在园，按村规优先"]
    assert audit.note == "offer, skipping the waiting list"


def test_the_head_needs_no_reason(world: World, centre) -> None:
    head = apply(world, centre, 1)
    apply(world, centre, 2, minutes=1)
    childcare.application_offer(actor=world.user("secretary"), application=head)
    assert ChildcareEvent.objects.get(application=head, kind="offer").data == {"position": 1, "skipped": 0}


def test_the_next_family_heads_the_list_once_the_first_is_offered(world: World, centre) -> None:
    secretary = world.user("secretary")
    first, second = apply(world, centre, 1), apply(world, centre, 2, minutes=1)
    childcare.application_offer(actor=secretary, application=first)
    childcare.application_offer(actor=secretary, application=second)  # now the head: no reason needed
    assert counts(centre) == (0, 2)


# --- bad input ------------------------------------------------------------------------------


def test_a_birth_date_in_the_future_is_refused(world: World, centre) -> None:
    refused("birth", apply, world, centre, 1, born=TODAY + dt.timedelta(days=1))
    assert not ChildcareApplication.objects.exists()


def test_a_child_outside_the_age_range_is_refused(world: World, centre) -> None:
    error = refused("age", apply, world, centre, 1, born=dt.date(2019, 1, 1))  # 89 months
    assert "89" in " ".join(error.messages)
    refused("age", apply, world, centre, 2, born=dt.date(2026, 3, 1))  # 3 months, under 6
    # Too young today but six months old on the desired start date: accepted.
    apply(world, centre, 3, born=dt.date(2026, 3, 1), desired_start=dt.date(2026, 9, 1))
    assert ChildcareApplication.objects.count() == 1


def test_other_bad_input_is_refused_and_writes_nothing(world: World, centre) -> None:
    refused("start", apply, world, centre, 1, desired_start=TODAY - dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        apply(world, centre, 2, guardian_phone="12345")
    with pytest.raises(ValidationError):
        apply(world, centre, 3, child_name="  ")
    apply(world, centre, 4)
    refused("duplicate", apply, world, centre, 4, key="other-key")
    assert ChildcareApplication.objects.count() == 1
    assert AuditEntry.objects.filter(object_type="services.childcareapplication").count() == 1


def test_a_closed_centre_takes_no_applications(world: World, centre) -> None:
    childcare.provider_update(actor=world.user("secretary"), provider=centre, active=False)
    refused("closed", apply, world, centre, 1)


def test_the_same_key_twice_is_one_application(world: World, centre) -> None:
    first = apply(world, centre, 1, key="k")
    again = apply(world, centre, 1, key="k")
    assert first.pk == again.pk and ChildcareApplication.objects.count() == 1
    refused("conflict", apply, world, centre, 2, key="k")


def test_places_cannot_be_lowered_below_the_children_held(world: World, centre) -> None:
    secretary = world.user("secretary")
    a, b = apply(world, centre, 1), apply(world, centre, 2, minutes=1)
    childcare.application_offer(actor=secretary, application=a)
    childcare.application_enrol(actor=secretary, application=a)
    childcare.application_offer(actor=secretary, application=b)
    error = refused("below", childcare.provider_update, actor=secretary, provider=centre, capacity=1)
    assert "2" in " ".join(error.messages)
    assert ChildcareProvider.objects.get(pk=centre.pk).capacity == 3
    childcare.provider_update(actor=secretary, provider=centre, capacity=2)
    assert ChildcareProvider.objects.get(pk=centre.pk).capacity == 2
    audit = AuditEntry.objects.filter(object_type="services.childcareprovider", action="update").get()
    assert audit.changes == {"capacity": [3, 2]}


def test_a_centre_needs_a_village_or_township_and_sane_figures(world: World) -> None:
    secretary = world.user("secretary")
    refused("level", childcare.provider_create, actor=secretary, region=world.grid_a, name="x", capacity=10)
    refused("number", childcare.provider_create, actor=secretary, region=world.village, name="x", capacity=0)
    refused("ages", childcare.provider_create, actor=secretary, region=world.village, name="x", capacity=10,
            min_age_months=36, max_age_months=12)
    refused("phone", childcare.provider_create, actor=secretary, region=world.village, name="x", capacity=10,
            phone="call us")
    assert not ChildcareProvider.objects.exists()


def test_months_old_counts_whole_months() -> None:
    assert childcare.months_old(dt.date(2024, 3, 15), dt.date(2026, 6, 1)) == 26
    assert childcare.months_old(dt.date(2024, 3, 15), dt.date(2024, 4, 15)) == 1
    assert childcare.months_old(dt.date(2024, 3, 31), dt.date(2024, 4, 30)) == 1
    assert childcare.months_old(dt.date(2024, 3, 31), dt.date(2024, 4, 29)) == 0


# --- scope ----------------------------------------------------------------------------------


def test_another_villages_staff_cannot_see_or_act(world: World, centre) -> None:
    from hemei.regions.models import Role
    from tests.conftest import make_user

    other = make_user("dongshao", region=world.village2, role=Role.SECRETARY)
    a = apply(world, centre, 1)
    with pytest.raises(Http404):
        apply(world, centre, 2, actor=other)
    with pytest.raises(Http404):
        childcare.provider_update(actor=other, provider=centre, capacity=10)
    with pytest.raises(PermissionDenied):
        childcare.application_offer(actor=other, application=a)
    assert ChildcareApplication.objects.count() == 1 and counts(centre) == (0, 0)


def test_readers_without_a_managing_role_may_not_offer(world: World, centre) -> None:
    a = apply(world, centre, 1)
    with pytest.raises(PermissionDenied):
        childcare.application_offer(actor=world.user("shop"), application=a)
    with pytest.raises(PermissionDenied):
        apply(world, centre, 2, actor=world.user("shop"))
    assert counts(centre) == (0, 0)


def test_pages_and_api_answer_404_outside_the_scope(world: World, centre, login) -> None:
    from hemei.regions.models import Role
    from tests.conftest import make_user

    a = apply(world, centre, 1)
    other = login(make_user("dongshao", region=world.village2, role=Role.SECRETARY))
    assert other.get(f"/w/tuoyu/{centre.pk}/").status_code == 404
    assert other.get(f"/w/tuoyu/{centre.pk}/apply/").status_code == 404
    assert other.get(f"/w/tuoyu/{centre.pk}/export.xlsx").status_code == 404
    assert other.post(f"/w/tuoyu/applications/{a.pk}/offer/").status_code == 404
    assert other.get(f"/api/v1/services/childcare-applications/{a.pk}/").status_code == 404
    assert other.get(f"/api/v1/services/childcare-providers/{centre.pk}/").status_code == 404
    a.refresh_from_db()
    assert a.status == S.APPLIED


def test_a_grid_worker_sees_the_centre_but_no_child(world: World, centre, login) -> None:
    apply(world, centre, 1, child_name="王小明")
    client = login(world.user("grid_a"))
    page = client.get(f"/w/tuoyu/{centre.pk}/")
    assert page.status_code == 200 and "王*" not in page.content.decode()
    assert client.get(f"/w/tuoyu/{centre.pk}/apply/").status_code == 403
    rows = client.get("/api/v1/services/childcare-applications/").json()
    assert (rows["results"] if isinstance(rows, dict) else rows) == []


def test_the_township_sees_and_manages_its_villages_centre(world: World, centre, login) -> None:
    a = apply(world, centre, 1)
    client = login(world.user("township"))
    assert client.post(f"/w/tuoyu/applications/{a.pk}/offer/").status_code == 302
    a.refresh_from_db()
    assert a.status == S.OFFERED


# --- pages ----------------------------------------------------------------------------------


def test_the_public_page_shows_figures_and_no_names_or_phones(world: World, centre, client) -> None:
    secretary = world.user("secretary")
    a = apply(world, centre, 1, child_name="王小明", guardian_name="王建国", guardian_phone="13812345678")
    apply(world, centre, 2, minutes=1, child_name="李小红", guardian_name="李秀英", guardian_phone="13987654321")
    childcare.application_offer(actor=secretary, application=a)
    childcare.application_enrol(actor=secretary, application=a)
    page = client.get(f"/tuoyu/{centre.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    for secret in ("王小明", "王建国", "13812345678", "李小红", "李秀英", "13987654321", "王*", "李*"):
        assert secret not in text
    assert "0351-6012345" in text  # the centre's landline, for families to call
    centre.phone = "13700001234"  # a mobile may be a person's own: masked
    centre.save(update_fields=["phone"])
    assert "137****1234" in client.get(f"/tuoyu/{centre.pk}/").content.decode()
    assert "33 %" in text  # 1 of 3 places
    assert page.context["provider"].waiting == 1
    listing = client.get("/tuoyu/").content.decode()
    assert "西邵村托育中心" in listing and "王小明" not in listing


def test_the_staff_page_shows_the_lists_masked_with_positions(world: World, centre, login) -> None:
    secretary = world.user("secretary")
    a = apply(world, centre, 1, child_name="王小明", guardian_phone="13812345678")
    apply(world, centre, 2, minutes=1, child_name="李小红")
    childcare.application_offer(actor=secretary, application=a)
    text = login(secretary).get(f"/w/tuoyu/{centre.pk}/").content.decode()
    assert "王**" in text and "138****5678" in text and "王小明" not in text and "13812345678" not in text
    assert "<b>1.</b> 李**" in text


def test_staff_enter_an_application_on_the_form_and_a_double_tap_is_one(world: World, centre, login) -> None:
    client = login(world.user("secretary"))
    page = client.get(f"/w/tuoyu/{centre.pk}/apply/")
    assert page.status_code == 200 and 'type="tel"' in page.content.decode()
    form = {"child_name": "张小宝", "child_birth_date": "2024-05-01", "guardian_name": "张志强",
            "guardian_phone": "13900003333", "desired_start": "2026-09-01", "household": "101", "key": "form-1"}
    first = client.post(f"/w/tuoyu/{centre.pk}/apply/", form)
    second = client.post(f"/w/tuoyu/{centre.pk}/apply/", form)
    assert first.status_code == second.status_code == 302
    application = ChildcareApplication.objects.get()
    assert application.household_id == world.house_b.pk and application.created_by == world.user("secretary")


def test_the_form_explains_bad_input_and_keeps_what_was_typed(world: World, centre, login) -> None:
    client = login(world.user("secretary"))
    form = {"child_name": "张小宝", "child_birth_date": "2027-01-01", "guardian_name": "张志强",
            "guardian_phone": "13900003333", "desired_start": "2026-09-01", "key": "form-2"}
    page = client.post(f"/w/tuoyu/{centre.pk}/apply/", form)
    assert page.status_code == 400
    text = page.content.decode()
    assert "张小宝" in text and ("未来" in text or "future" in text)
    unknown = client.post(f"/w/tuoyu/{centre.pk}/apply/", {**form, "child_birth_date": "2024-05-01",
                                                          "household": "999"})
    assert unknown.status_code == 400
    assert not ChildcareApplication.objects.exists()


def test_staff_move_applications_through_the_pages(world: World, centre, login) -> None:
    client = login(world.user("secretary"))
    a, b = apply(world, centre, 1), apply(world, centre, 2, minutes=1)
    page = client.post(f"/w/tuoyu/applications/{b.pk}/offer/", follow=True)
    b.refresh_from_db()
    assert b.status == S.APPLIED and page.context["messages"]  # refused: no reason given
    client.post(f"/w/tuoyu/applications/{b.pk}/offer/", {"skip_reason": "特殊困难家庭"})
    client.post(f"/w/tuoyu/{centre.pk}/offer-next/")
    client.post(f"/w/tuoyu/applications/{a.pk}/enrol/")
    client.post(f"/w/tuoyu/applications/{b.pk}/decline/", {"note": "太远"})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status) == (S.ENROLLED, S.DECLINED) and counts(centre) == (1, 0)
    assert client.post(f"/w/tuoyu/applications/{a.pk}/nonsense/").status_code == 404


def test_staff_lower_places_on_the_page_and_a_refusal_is_a_message(world: World, centre, login) -> None:
    client = login(world.user("secretary"))
    a = apply(world, centre, 1)
    childcare.application_offer(actor=world.user("secretary"), application=a)
    form = {"capacity": "0", "min_age_months": "6", "max_age_months": "72", "phone": "", "active": "on"}
    client.post(f"/w/tuoyu/{centre.pk}/edit/", form)
    assert ChildcareProvider.objects.get(pk=centre.pk).capacity == 3
    client.post(f"/w/tuoyu/{centre.pk}/edit/", {**form, "capacity": "135"})
    assert ChildcareProvider.objects.get(pk=centre.pk).capacity == 135
    assert login(world.user("shop")).post(f"/w/tuoyu/{centre.pk}/edit/", form).status_code == 403


def test_staff_add_a_centre_from_the_list(world: World, login) -> None:
    client = login(world.user("township"))
    response = client.post("/w/tuoyu/new/", {"region": world.township.code, "name": "姚村镇中心托育园",
                                              "capacity": "80", "min_age_months": "12", "max_age_months": "36"})
    provider = ChildcareProvider.objects.get()
    assert response["Location"] == f"/w/tuoyu/{provider.pk}/" and provider.region == world.township
    assert login(world.user("secretary")).post("/w/tuoyu/new/", {
        "region": world.township.code, "name": "x", "capacity": "8", "min_age_months": "6",
        "max_age_months": "72"}).status_code == 404  # the township is not the secretary's
    assert ChildcareProvider.objects.count() == 1


def test_the_list_shows_occupancy_per_centre_township_and_county(world: World, login,
                                                                 django_assert_max_num_queries) -> None:
    secretary, township = world.user("secretary"), world.user("township")
    first = childcare.provider_create(actor=secretary, region=world.village, name="西邵村托育中心", capacity=4)
    childcare.provider_create(actor=township, region=world.village2, name="东邵村托育园", capacity=6)
    a = apply(world, first, 1)
    childcare.application_offer(actor=secretary, application=a)
    childcare.application_enrol(actor=secretary, application=a)
    client = login(township)
    client.get("/w/tuoyu/")  # warm the session
    with django_assert_max_num_queries(20) as few:
        page = client.get("/w/tuoyu/")
    text = page.content.decode()
    assert "25 %" in text  # 1 of 4
    [area] = page.context["townships"]
    assert (area.region, area.places, area.enrolled, area.percent) == (world.township, 10, 1, 10)
    for n in range(8):
        childcare.provider_create(actor=township, region=world.village2, name=f"托育点{n}", capacity=5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/w/tuoyu/")
    assert len(page.context["providers"]) == 10


def test_the_provider_page_makes_a_fixed_number_of_queries(world: World, centre, login,
                                                           django_assert_max_num_queries) -> None:
    ChildcareProvider.objects.filter(pk=centre.pk).update(capacity=50)
    for n in range(3):
        apply(world, centre, n, minutes=n)
    client = login(world.user("secretary"))
    client.get(f"/w/tuoyu/{centre.pk}/")
    with django_assert_max_num_queries(25) as few:
        client.get(f"/w/tuoyu/{centre.pk}/")
    for n in range(3, 30):
        apply(world, centre, n, minutes=n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(f"/w/tuoyu/{centre.pk}/")
    assert len(page.context["waiting"]) == 30


def test_the_services_menu_links_the_childcare_page(world: World, login) -> None:
    assert 'href="/w/tuoyu/"' in login(world.user("secretary")).get("/w/tuoyu/").content.decode()


# --- export ---------------------------------------------------------------------------------


def test_the_export_lists_the_register_masked_without_the_permission_and_is_audited(world: World, centre,
                                                                                      login) -> None:
    secretary = world.user("secretary")
    a = apply(world, centre, 1, child_name="王小明", guardian_phone="13812345678")
    apply(world, centre, 2, minutes=1, child_name="=HYPERLINK(1)")
    childcare.application_offer(actor=secretary, application=a)
    childcare.application_enrol(actor=secretary, application=a)
    masked = login(world.user("township")).get(f"/w/tuoyu/{centre.pk}/export.xlsx")
    assert masked.status_code == 200
    book = load_workbook(io.BytesIO(masked.content))
    enrolled = list(book["在托幼儿"].iter_rows(values_only=True))
    assert enrolled[0][:3] == ("序号", "幼儿姓名", "出生日期")
    assert enrolled[1][:6] == (1, "王**", "2024-03", 26, "王**", "138****5678")
    waiting = list(book["排队名单"].iter_rows(values_only=True))
    assert waiting[1][0] == 1 and waiting[1][1] == "'=" + "*" * 12  # masked, and neutralised
    # The secretary may reveal, but gets the masked sheet unless she asks (`reveal=1`).
    asked_not = login(secretary).get(f"/w/tuoyu/{centre.pk}/export.xlsx")
    assert list(load_workbook(io.BytesIO(asked_not.content))["在托幼儿"].iter_rows(values_only=True))[1][1] == "王**"
    assert login(world.user("township")).get(f"/w/tuoyu/{centre.pk}/export.xlsx?reveal=1").status_code == 403
    clear = login(secretary).get(f"/w/tuoyu/{centre.pk}/export.xlsx?reveal=1")
    rows = list(load_workbook(io.BytesIO(clear.content))["在托幼儿"].iter_rows(values_only=True))
    assert rows[1][1] == "王小明" and rows[1][5] == "13812345678"
    waiting = list(load_workbook(io.BytesIO(clear.content))["排队名单"].iter_rows(values_only=True))
    assert waiting[1][1] == "'=HYPERLINK(1)"  # neutralised
    exports = AuditEntry.objects.filter(action="export", object_type="services.childcareprovider")
    assert sorted(e.changes["names"] for e in exports) == ["clear", "masked", "masked"]


def test_the_export_is_for_signed_in_staff_only(world: World, centre, client, login) -> None:
    assert client.get(f"/w/tuoyu/{centre.pk}/export.xlsx").status_code == 302  # to the login page
    assert login(world.user("villager")).get(f"/w/tuoyu/{centre.pk}/export.xlsx").status_code in (403, 404)
    assert not AuditEntry.objects.filter(action="export").exists()


# --- API ------------------------------------------------------------------------------------


def test_the_api_lists_centres_with_occupancy(world: World, centre, login) -> None:
    secretary = world.user("secretary")
    a = apply(world, centre, 1)
    apply(world, centre, 2, minutes=1)
    childcare.application_offer(actor=secretary, application=a)
    childcare.application_enrol(actor=secretary, application=a)
    client = login(world.user("township"))
    data = client.get("/api/v1/services/childcare-providers/").json()
    [row] = data["results"] if isinstance(data, dict) else data
    assert (row["capacity"], row["enrolled"], row["waiting"], row["free"], row["phone"]) == (3, 1, 1, 2,
                                                                                          "035*****2345")
    assert round(row["occupancy"], 3) == 0.333
    areas = client.get("/api/v1/services/childcare-providers/occupancy/").json()
    assert {(r["level"], r["places"], r["enrolled"]) for r in areas} == {("township", 3, 1), ("county", 3, 1)}


def test_the_api_lists_applications_masked_and_creates_one_through_the_service(world: World, centre,
                                                                               login) -> None:
    apply(world, centre, 1, child_name="王小明", guardian_phone="13812345678")
    client = login(world.user("secretary"))
    data = client.get(f"/api/v1/services/childcare-applications/?provider={centre.pk}").json()
    [row] = data["results"] if isinstance(data, dict) else data
    assert (row["child_name"], row["guardian_phone"], row["position"]) == ("王**", "138****5678", 1)
    assert "child_birth_date" not in row and row["child_birth_month"] == "2024-03"
    body = {"provider": centre.pk, "child_name": "李小红", "child_birth_date": "2024-01-02",
            "guardian_name": "李秀英", "guardian_phone": "13800002222", "desired_start": "2026-07-01",
            "household": world.house_a.pk}
    assert client.post("/api/v1/services/childcare-applications/", body,
                       content_type="application/json").status_code == 400  # no key
    made = client.post("/api/v1/services/childcare-applications/", body, content_type="application/json",
                       headers={"Idempotency-Key": "api-1"})
    again = client.post("/api/v1/services/childcare-applications/", body, content_type="application/json",
                        headers={"Idempotency-Key": "api-1"})
    assert (made.status_code, again.status_code) == (201, 200) and made.json()["id"] == again.json()["id"]
    assert made.json()["position"] == 2
    bad = client.post("/api/v1/services/childcare-applications/", {**body, "child_birth_date": "2027-01-01"},
                      content_type="application/json", headers={"Idempotency-Key": "api-2"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "birth"
    assert ChildcareApplication.objects.count() == 2


def test_the_api_refuses_a_household_outside_the_scope(world: World, centre, login) -> None:
    client = login(world.user("secretary"))
    body = {"provider": centre.pk, "child_name": "刘小华", "child_birth_date": "2024-01-02",
            "guardian_name": "刘德华", "guardian_phone": "13700004444", "desired_start": "2026-07-01",
            "household": world.house_c.pk}
    response = client.post("/api/v1/services/childcare-applications/", body, content_type="application/json",
                           headers={"Idempotency-Key": "api-3"})
    assert response.status_code == 404 and not ChildcareApplication.objects.exists()


# --- verify and demo ------------------------------------------------------------------------


def test_verify_names_a_centre_whose_count_was_changed_behind_the_services(world: World, centre) -> None:
    from hemei.core.verify import CHECKS

    a = apply(world, centre, 1)
    childcare.application_offer(actor=world.user("secretary"), application=a)
    assert CHECKS["childcare-places"]() == []
    ChildcareProvider.objects.filter(pk=centre.pk).update(offered=0, enrolled=1)
    assert CHECKS["childcare-places"]() == [
        f"childcare centre {centre.pk}: 1 enrolled and 0 offered, but applications say 0 and 1"]


def test_the_demo_builds_xishaos_centre_with_135_places_and_119_enrolled(world: World) -> None:
    from hemei.core.verify import CHECKS
    from hemei.services.demo import demo_childcare

    assert demo_childcare() == 1  # 古城营村 is not in the test county
    provider = ChildcareProvider.objects.get(region=world.village)
    assert (provider.capacity, provider.enrolled, provider.offered) == (135, 119, 1)
    assert ChildcareApplication.objects.filter(provider=provider, status=S.APPLIED).count() == 3
    assert CHECKS["childcare-places"]() == []
    assert demo_childcare() == 0  # built once


# --- many clerks at once (PostgreSQL) -------------------------------------------------------

THREADS = 16
PLACES = 5


def _race(world: World, provider: ChildcareProvider, work) -> list[str]:
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        try:
            barrier.wait()
            work(n)
            outcome = "offered"
        except ValidationError as exc:
            outcome = f"refused {exc.code}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_many_clerks_offering_at_once_never_exceed_the_places(world: World) -> None:
    secretary = world.user("secretary")
    provider = childcare.provider_create(actor=secretary, region=world.village, name="西邵村托育中心",
                                         capacity=PLACES)
    apps = [apply(world, provider, n, minutes=n) for n in range(THREADS)]
    outcomes = _race(world, provider, lambda n: childcare.application_offer(
        actor=secretary, application=apps[n], skip_reason="并发测试"))
    assert sorted(set(outcomes)) == ["offered", "refused full"], outcomes
    assert outcomes.count("offered") == PLACES
    provider.refresh_from_db()
    held = ChildcareApplication.objects.filter(provider=provider, status=S.OFFERED).count()
    assert provider.offered == held == PLACES <= provider.capacity


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_many_clerks_offering_the_next_place_at_once_follow_the_list(world: World) -> None:
    """Each clerk presses "offer to the first family waiting" at the same instant: the places
    go to the first five families in order, never twice to one, never beyond the places."""
    secretary = world.user("secretary")
    provider = childcare.provider_create(actor=secretary, region=world.village, name="西邵村托育中心",
                                         capacity=PLACES)
    apps = [apply(world, provider, n, minutes=n) for n in range(THREADS)]
    outcomes = _race(world, provider, lambda n: childcare.application_offer_next(actor=secretary,
                                                                                 provider=provider))
    assert outcomes.count("offered") == PLACES, outcomes
    assert set(outcomes) <= {"offered", "refused full"}
    offered = set(ChildcareApplication.objects.filter(status=S.OFFERED).values_list("pk", flat=True))
    assert offered == {a.pk for a in apps[:PLACES]}
    provider.refresh_from_db()
    assert provider.offered == PLACES


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_withdrawals_and_offers_at_once_keep_the_counts_exact(world: World) -> None:
    secretary = world.user("secretary")
    provider = childcare.provider_create(actor=secretary, region=world.village, name="西邵村托育中心",
                                         capacity=PLACES)
    apps = [apply(world, provider, n, minutes=n) for n in range(THREADS)]
    for a in apps[:PLACES]:
        childcare.application_offer(actor=secretary, application=a)

    def work(n: int) -> None:
        if n < PLACES:
            childcare.application_withdraw(actor=secretary, application=apps[n], reason="改变主意")
        else:
            childcare.application_offer(actor=secretary, application=apps[n], skip_reason="并发测试")

    _race(world, provider, work)
    provider.refresh_from_db()
    held = ChildcareApplication.objects.filter(provider=provider, status=S.OFFERED).count()
    assert provider.offered == held <= PLACES
    assert ChildcareApplication.objects.filter(status=S.WITHDRAWN).count() == PLACES


def test_the_add_form_is_offered_only_to_who_may_add(world: World, login) -> None:
    assert "/w/tuoyu/new/" in login(world.user("secretary")).get("/w/tuoyu/").content.decode()
    grid = login(world.user("grid_a"))
    assert "/w/tuoyu/new/" not in grid.get("/w/tuoyu/").content.decode()
    assert grid.post("/w/tuoyu/new/", {"region": world.village.code, "name": "x", "capacity": "8",
                                       "min_age_months": "6", "max_age_months": "72"}).status_code in (403, 404)
    assert not ChildcareProvider.objects.exists()


# --- offers lapse ---------------------------------------------------------------------------


def test_an_offer_not_taken_up_lapses_after_its_days_and_the_place_goes_to_the_next(world: World, centre,
                                                                                     settings) -> None:
    from hemei.core.sweeps import sweep_all
    from hemei.services.sweep import earliest_offer_end, sweep_offers

    settings.HEMEI_CHILDCARE_OFFER_DAYS = 14
    secretary = world.user("secretary")
    first, second, third, fourth = (apply(world, centre, n, minutes=n) for n in range(1, 5))
    for a in (first, second, third):
        childcare.application_offer(actor=secretary, application=a)
    childcare.application_enrol(actor=secretary, application=second)
    assert counts(centre) == (1, 2)
    assert earliest_offer_end() == NOW + dt.timedelta(days=14)
    assert sweep_offers(NOW + dt.timedelta(days=13, hours=23)) == []  # still held for the families
    done = sweep_all(NOW + dt.timedelta(days=14, minutes=1))  # the shared sweep runs it
    assert sorted(e.ref for e in done if e.kind == "childcare-offer") == sorted([str(first.pk), str(third.pk)])
    for a in (first, third):
        a.refresh_from_db()
        assert a.status == S.DECLINED
        assert a.events.order_by("pk").last().kind == "lapse"
    second.refresh_from_db()
    assert second.status == S.ENROLLED  # enrolled before the end: untouched
    assert counts(centre) == (1, 0)
    assert sweep_offers(NOW + dt.timedelta(days=20)) == []  # once only
    assert AuditEntry.objects.filter(object_id=str(first.pk), note__icontains="lapse").exists() or \
        AuditEntry.objects.filter(object_id=str(first.pk), changes__status=[S.OFFERED, S.DECLINED]).exists()
    # The places are free again: the next family gets one.
    assert childcare.application_offer_next(actor=secretary, provider=centre).pk == fourth.pk


def test_no_user_can_make_an_offer_lapse(world: World, centre) -> None:
    from hemei.core.workflow import transition

    a = apply(world, centre, 1)
    childcare.application_offer(actor=world.user("secretary"), application=a)
    for persona in ("secretary", "county"):
        with pytest.raises(PermissionDenied):
            transition(a, S.DECLINED, actor=world.user(persona), move="lapse")
    a.refresh_from_db()
    assert a.status == S.OFFERED and counts(centre) == (0, 1)
