"""The trusteeship register pages: parcels (add, edit, end), a service on many parcels at once,
yearly income entry, xlsx import/template/export — bad input changes nothing, scopes hold."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from hemei.contracts import trust, trust_io
from hemei.contracts.models import TrustIncome, TrustParcel, TrustService
from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.regions import services as region_services
from hemei.regions.models import Role
from tests.conftest import World, make_user

D = dt.date
PROVIDER = "西铺头农机合作社"


@pytest.fixture
def login(login: Any) -> Any:
    """Signed in, in English: the tests match the English messages on the pages."""

    def _login(user: Any) -> Any:
        client = login(user)
        client.post(reverse("set_language"), {"language": "en", "next": "/w/"})
        return client

    return _login


def _state() -> tuple[Any, ...]:
    """Everything a bad request must leave as it was."""
    return (
        list(TrustParcel.objects.order_by("pk").values_list("pk", "code", "area_mu", "provider", "entrusted_from",
                                                            "entrusted_to", "ended_on", "location", "crop")),
        list(TrustService.objects.order_by("pk").values_list("pk", "area_mu", "fee")),
        list(TrustIncome.objects.order_by("pk").values_list("pk", "yield_income")),
        AuditEntry.objects.count(),
    )


def _parcel(world: World, area: str = "5.00", code: str = "", house: Any = None) -> TrustParcel:
    return trust.parcel_register(actor=SYSTEM, household=house or world.house_a, area_mu=Decimal(area),
                                 provider=PROVIDER, entrusted_from=D(2026, 1, 1), entrusted_to=D(2028, 12, 31),
                                 code=code, location="东沟", crop="玉米")


def _parcel_post(world: World, **changes: str) -> dict[str, str]:
    data = {"village": world.village.code, "household": "001", "code": "XS-1", "area_mu": "6.5",
            "location": "东沟", "crop": "玉米", "provider": PROVIDER, "entrusted_from": "2026-01-01",
            "entrusted_to": "2028-12-31"}
    data.update(changes)
    return data


def test_add_parcel_by_number_or_head_name(world: World, login: Any) -> None:
    client = login(world.user("secretary"))
    r = client.post("/w/trusteeship/parcels/new/", _parcel_post(world))
    assert r.status_code == 302
    parcel = TrustParcel.objects.get()
    assert (parcel.household_id, parcel.area_mu, parcel.code) == (world.house_a.pk, Decimal("6.50"), "XS-1")
    assert AuditEntry.objects.filter(object_type="contracts.trustparcel", action="create").count() == 1
    # by the head's name; the township may add for its villages too
    r = login(world.user("township")).post("/w/trusteeship/parcels/new/",
                                           _parcel_post(world, household="张志强", code="XS-2"))
    assert r.status_code == 302
    assert TrustParcel.objects.filter(household=world.house_b).count() == 1
    page = client.get(f"/w/trusteeship/parcels/?village={world.village.code}").content.decode()
    assert "XS-1" in page and "XS-2" in page and "13.00" in page  # total 亩
    found = client.get(f"/w/trusteeship/parcels/new/?village={world.village.code}&find=王").content.decode()
    assert "001" in found and "王建国" in found


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"area_mu": "0"}, "more than zero"),
        ({"area_mu": "-3"}, "more than zero"),
        ({"area_mu": "2.345"}, "two decimal places"),
        ({"entrusted_to": "2025-12-31"}, "end before it starts"),
        ({"household": "555"}, "No household 555"),  # 555 is a household of 东邵村
        ({"household": "刘德华"}, "No household"),  # head of 东邵村's 001
        ({"provider": ""}, "required"),
    ],
)
def test_parcel_form_bad_input_changes_nothing(world: World, login: Any, changes: dict[str, str],
                                               message: str) -> None:
    region_services.household_create(actor=SYSTEM, grid=world.grid_c, number="555", address="东邵村2号")
    _parcel(world, code="XS-1")
    before = _state()
    client = login(world.user("secretary"))
    with translation.override("en"):
        r = client.post("/w/trusteeship/parcels/new/", _parcel_post(world, code="XS-9", **changes))
    assert r.status_code == 200
    assert message in r.content.decode()
    assert _state() == before


def test_duplicate_code_and_other_village_household_refused_by_service(world: World) -> None:
    _parcel(world, code="XS-1")
    before = _state()
    sec = world.user("secretary")
    with translation.override("en"), pytest.raises(ValidationError, match="already used"):
        trust.parcel_register(actor=sec, village=world.village, household=world.house_b, area_mu="1",
                              provider="x", entrusted_from=D(2026, 1, 1), entrusted_to=D(2027, 1, 1), code="XS-1")
    with translation.override("en"), pytest.raises(ValidationError, match="not of this village"):
        trust.parcel_register(actor=sec, village=world.village, household=world.house_c, area_mu="1",
                              provider="x", entrusted_from=D(2026, 1, 1), entrusted_to=D(2027, 1, 1))
    assert _state() == before


def test_edit_rule_and_end(world: World, login: Any) -> None:
    parcel = _parcel(world, code="XS-1")
    client = login(world.user("secretary"))
    url = f"/w/trusteeship/parcels/{parcel.pk}/"
    edit = {"action": "edit", "code": "XS-1", "area_mu": "5.5", "location": "西沟", "crop": "谷子",
            "provider": PROVIDER, "entrusted_from": "2026-01-01", "entrusted_to": "2028-12-31"}
    assert client.post(url, edit).status_code == 302
    parcel.refresh_from_db()
    assert (parcel.area_mu, parcel.location) == (Decimal("5.50"), "西沟")
    assert AuditEntry.objects.filter(object_type="contracts.trustparcel", action="update").count() == 1
    trust.service_record(actor=SYSTEM, parcel=parcel, kind="spraying", on=D(2026, 7, 1), area_mu="5", fee="50")
    # services recorded: the area is frozen, the location still corrects
    before = _state()
    with translation.override("en"):
        r = client.post(url, {**edit, "area_mu": "9"})
    assert "can no longer be changed" in r.content.decode()
    assert _state() == before
    assert client.post(url, {**edit, "location": "北梁"}).status_code == 302
    parcel.refresh_from_db()
    assert parcel.location == "北梁"
    # end: not before the start, not before a recorded service; then once
    before = _state()
    with translation.override("en"):
        r1 = client.post(url, {"action": "end", "ended_on": "2025-06-01"})
        r2 = client.post(url, {"action": "end", "ended_on": "2026-06-30"})
    assert "within the term" in r1.content.decode()
    assert "A service is recorded after this date" in r2.content.decode()
    assert _state() == before
    assert client.post(url, {"action": "end", "ended_on": "2026-08-01"}).status_code == 302
    assert client.post(url, {"action": "end", "ended_on": "2026-08-01"}).status_code == 302  # sent twice
    parcel.refresh_from_db()
    assert parcel.ended_on == D(2026, 8, 1)
    assert AuditEntry.objects.filter(object_type="contracts.trustparcel", changes__has_key="ended_on").count() == 1
    with translation.override("en"), pytest.raises(ValidationError, match="ended on"):
        trust.service_record(actor=SYSTEM, parcel=parcel, kind="harvest", on=D(2026, 10, 1), area_mu="5", fee="1")
    with translation.override("en"), pytest.raises(ValidationError, match="cannot be edited"):
        trust.parcel_update(actor=SYSTEM, parcel=parcel, location="x")


def _service_post(world: World, key: str, parcels: list[TrustParcel], **extra: str) -> dict[str, Any]:
    return {"village": world.village.code, "kind": "spraying", "on": "2026-07-01", "fee_per_mu": "15.00",
            "note": "飞防", "key": key, "parcel": [str(p.pk) for p in parcels], **extra}


def test_batch_service_writes_each_row_once(world: World, login: Any) -> None:
    a = _parcel(world, "6.50", "XS-1")
    b = _parcel(world, "3.33", "XS-2", house=world.house_b)
    c = _parcel(world, "2.00", "XS-3")
    client = login(world.user("secretary"))
    data = _service_post(world, "k1", [a, b], **{f"area_{b.pk}": "3.00"})
    assert client.post("/w/trusteeship/services/new/", data).status_code == 302
    assert client.post("/w/trusteeship/services/new/", data).status_code == 302  # double submit
    rows = {s.parcel_id: (s.area_mu, s.fee) for s in TrustService.objects.all()}
    assert rows == {a.pk: (Decimal("6.50"), Decimal("97.50")), b.pk: (Decimal("3.00"), Decimal("45.00"))}
    assert AuditEntry.objects.filter(object_type="contracts.trustservice").count() == 2
    # "all parcels of provider X", half-up rounding of area × rate
    data = _service_post(world, "k2", [], all_of=PROVIDER, fee_per_mu="0.15", kind="fertilising")
    assert client.post("/w/trusteeship/services/new/", data).status_code == 302
    fert = {s.parcel_id: s.fee for s in TrustService.objects.filter(kind="fertilising")}
    assert fert == {a.pk: Decimal("0.98"), b.pk: Decimal("0.50"), c.pk: Decimal("0.30")}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"fee_per_mu": "1.234"}, "two decimal places"),
        ({"fee_per_mu": "-1"}, "more than zero"),
        ({"area_X": "6.51"}, "larger than the parcel"),
        ({"area_X": "0"}, "more than zero"),
        ({"parcel": []}, "at least one parcel"),
    ],
)
def test_batch_service_bad_input_changes_nothing(world: World, login: Any, extra: dict[str, Any],
                                                 message: str) -> None:
    a = _parcel(world, "6.50", "XS-1")
    b = _parcel(world, "3.00", "XS-2")
    before = _state()
    extra = {k.replace("X", str(a.pk)): v for k, v in extra.items()}
    with translation.override("en"):
        r = login(world.user("secretary")).post("/w/trusteeship/services/new/",
                                                _service_post(world, "k", [a, b], **extra))
    assert r.status_code == 200 and message in r.content.decode()
    assert _state() == before


def test_service_float_money_refused(world: World) -> None:
    a = _parcel(world)
    other = _parcel(world, house=world.house_c)
    before = _state()
    with translation.override("en"), pytest.raises(ValidationError, match="floating-point"):
        trust.services_batch(actor=SYSTEM, village=world.village, parcels=[a], kind="spraying", on=D(2026, 7, 1),
                             fee_per_mu=12.5, idempotency_key="f")
    with translation.override("en"), pytest.raises(ValidationError, match="not of this village"):
        trust.services_batch(actor=SYSTEM, village=world.village, parcels=[a, other], kind="spraying",
                             on=D(2026, 7, 1), fee_per_mu="1", idempotency_key="g")
    assert _state() == before


def test_income_entry(world: World, login: Any) -> None:
    _parcel(world)
    client = login(world.user("secretary"))
    data = {"village": world.village.code, "household": "001", "year": "2026", "yield_income": "9500.00"}
    assert client.post("/w/trusteeship/income/new/", data).status_code == 302
    assert client.post("/w/trusteeship/income/new/", data).status_code == 302  # sent twice: one record
    assert TrustIncome.objects.get().yield_income == Decimal("9500.00")
    before = _state()
    for changes, message in (({"yield_income": "9600.00"}, "already recorded"),
                             ({"yield_income": "1.005", "year": "2025"}, "two decimal places"),
                             ({"household": "刘德华", "year": "2025"}, "No household"),
                             ({"year": "1999"}, "2000")):
        with translation.override("en"):
            r = client.post("/w/trusteeship/income/new/", {**data, **changes})
        assert r.status_code == 200 and message in r.content.decode(), changes
    with translation.override("en"), pytest.raises(ValidationError, match="floating-point"):
        trust.income_record(actor=SYSTEM, household=world.house_b, year=2026, yield_income=100.5)
    assert _state() == before
    # a correction needs a reason; the audit keeps the old figure
    r = client.post("/w/trusteeship/income/new/", {**data, "yield_income": "9600.00", "correct": "on"})
    assert "reason" in r.content.decode()
    assert _state() == before
    r = client.post("/w/trusteeship/income/new/", {**data, "yield_income": "9600.00", "correct": "on",
                                                   "reason": "录入错误"})
    assert r.status_code == 302
    assert TrustIncome.objects.get().yield_income == Decimal("9600.00")
    entry = AuditEntry.objects.filter(object_type="contracts.trustincome", action="update").get()
    assert entry.changes["yield_income"] == ["9500.00", "9600.00"] and entry.note == "录入错误"
    report = client.get(f"/w/trusteeship/income/?village={world.village.code}&year=2026").content.decode()
    assert "9,600.00" in report and "/w/trusteeship/income/new/" in report


def test_scopes(world: World, login: Any) -> None:
    parcel = _parcel(world, code="XS-1")
    other = make_user("sec2", region=world.village2, role=Role.SECRETARY)
    urls = [f"/w/trusteeship/parcels/?village={world.village.code}",
            f"/w/trusteeship/parcels/new/?village={world.village.code}",
            f"/w/trusteeship/parcels/{parcel.pk}/",
            f"/w/trusteeship/services/new/?village={world.village.code}",
            f"/w/trusteeship/income/new/?village={world.village.code}",
            f"/w/trusteeship/import/?village={world.village.code}",
            f"/w/trusteeship/export.xlsx?village={world.village.code}"]
    for persona in (other, world.user("grid_a"), world.user("villager"), world.user("shop")):
        client = login(persona)
        for url in urls:
            assert client.get(url).status_code in (403, 404), (persona, url)
    before = _state()
    client = login(other)
    assert client.post(f"/w/trusteeship/parcels/{parcel.pk}/", {"action": "end", "ended_on": "2026-08-01"}
                       ).status_code == 404
    assert client.post("/w/trusteeship/services/new/", _service_post(world, "x", [parcel])).status_code == 404
    # a grid worker posting their own village's code is still refused
    assert login(world.user("grid_a")).post("/w/trusteeship/parcels/new/", _parcel_post(world)).status_code == 404
    assert _state() == before
    # the township sees and writes for its villages
    assert login(world.user("township")).get(urls[2]).status_code == 200
    assert login(world.user("county")).get(urls[0]).status_code == 200


def _sheet(rows: list[list[Any]], header: tuple[str, ...] = trust_io.HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


GOOD = ["XS-1", "001", "6.5", "东沟", "玉米", PROVIDER, "2026-01-01", "2028-12-31"]


def test_import_all_or_nothing(world: World, login: Any) -> None:
    _parcel(world, code="XS-OLD")
    before = _state()
    bad = _sheet([
        GOOD,
        ["XS-2", "555", "2", "", "", PROVIDER, "2026-01-01", "2028-12-31"],  # no such household here
        ["XS-3", "101", "0", "", "", PROVIDER, "2026-01-01", "2028-12-31"],  # area 0
        ["XS-4", "101", 2.005, "", "", PROVIDER, "2026-01-01", "2028-12-31"],  # 3 places
        ["XS-5", "101", "2", "", "", PROVIDER, "2026-01-01", "2025-12-31"],  # dates out of order
        ["XS-1", "101", "2", "", "", PROVIDER, "2026-01-01", "2028-12-31"],  # code twice in the file
        ["XS-OLD", "101", "2", "", "", PROVIDER, "2026-01-01", "2028-12-31"],  # code already used
    ])
    with translation.override("en"):
        result = trust_io.parcel_import(actor=world.user("secretary"), village=world.village, data=bad)
    assert not result.ok and result.created == 0
    by_row = {(e.row, e.column): e.message for e in result.errors}
    assert "No household" in by_row[(3, "户号")]
    assert "more than zero" in by_row[(4, "面积(亩)")]
    assert "two decimal places" in by_row[(5, "面积(亩)")]
    assert "end before it starts" in by_row[(6, "托管终止")]
    assert "row 2" in by_row[(7, "地块编号")]
    assert "already used" in by_row[(8, "地块编号")]
    assert _state() == before
    client = login(world.user("secretary"))
    upload = io.BytesIO(_sheet([GOOD, ["XS-2", "101", 3.25, "南坡", "谷子", PROVIDER, D(2026, 3, 1),
                                       D(2027, 2, 28)]]))
    upload.name = "parcels.xlsx"
    r = client.post("/w/trusteeship/import/", {"village": world.village.code, "file": upload})
    assert r.status_code == 302
    assert TrustParcel.objects.filter(code="XS-2", area_mu=Decimal("3.25"), household=world.house_b).exists()
    assert TrustParcel.objects.count() == 3
    assert AuditEntry.objects.filter(action="import").count() == 1
    template = client.get("/w/trusteeship/import/template.xlsx")
    header = [c.value for c in load_workbook(io.BytesIO(template.content)).worksheets[0][1]]
    assert tuple(header) == trust_io.HEADERS


def test_export_neutralised_and_audited(world: World, login: Any) -> None:
    parcel = trust.parcel_register(actor=SYSTEM, household=world.house_a, area_mu="2", provider="=HYPERLINK(1)",
                                   entrusted_from=D(2026, 1, 1), entrusted_to=D(2027, 1, 1), location="+cmd")
    trust.service_record(actor=SYSTEM, parcel=parcel, kind="spraying", on=D(2026, 7, 1), area_mu="2", fee="30",
                         note="@SUM(A1)")
    r = login(world.user("secretary")).get(f"/w/trusteeship/export.xlsx?village={world.village.code}")
    workbook = load_workbook(io.BytesIO(r.content))
    parcels, services = workbook.worksheets
    row = [c.value for c in parcels[2]]
    assert "'=HYPERLINK(1)" in row and "'+cmd" in row
    assert [c.value for c in services[2]][-1] == "'@SUM(A1)"
    assert AuditEntry.objects.filter(action="export", changes__what="trusteeship parcels and services").count() == 1


def test_villager_sees_services_and_income(world: World, login: Any) -> None:
    parcel = _parcel(world, code="XS-1")
    trust.service_record(actor=SYSTEM, parcel=parcel, kind="spraying", on=D(2026, 7, 1), area_mu="5", fee="75.00")
    trust.income_record(actor=SYSTEM, household=world.house_a, year=2026, yield_income="5000.00")
    page = login(world.user("villager")).get("/me/trusteeship/").content.decode()
    assert "75.00" in page and "4,925.00" in page and "东沟" in page


def test_list_pages_query_count_flat(world: World, login: Any, django_assert_max_num_queries: Any) -> None:
    for n in range(30):
        parcel = _parcel(world, "2.00", f"XS-{n}", house=world.house_a if n % 2 else world.house_b)
        trust.service_record(actor=SYSTEM, parcel=parcel, kind="spraying", on=D(2026, 7, 1), area_mu="2", fee="30")
    client = login(world.user("secretary"))
    with django_assert_max_num_queries(20):
        page = client.get(f"/w/trusteeship/parcels/?village={world.village.code}&grid={world.grid_a.code}")
    assert page.content.decode().count("/w/trusteeship/parcels/") >= 15
    with django_assert_max_num_queries(20):
        assert client.get(f"/w/trusteeship/services/new/?village={world.village.code}").status_code == 200


def test_batch_service_ignores_ticked_values_that_are_not_parcel_ids(world: World, login: Any) -> None:
    a = _parcel(world, "6.50", "XS-1")
    _parcel(world, "3.00", "XS-2")
    data = _service_post(world, "k-ids", [a])
    data["parcel"] += ["abc", "²", "-1", "0", "99999999999999999999"]
    data["all_of"] = "\x00"  # not text: read as "no provider", so the ticked parcels count
    response = login(world.user("secretary")).post("/w/trusteeship/services/new/", data)
    assert response.status_code == 302
    assert list(TrustService.objects.values_list("parcel_id", flat=True)) == [a.pk]
