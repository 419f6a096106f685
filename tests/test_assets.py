"""Collective assets: the register, the township idle-asset database, scopes, photos, status
history, revitalisation projects and the public board section."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from hemei.assets.models import Asset, AssetPhoto, AssetStatusChange, ProjectIncome, RevitalisationProject
from hemei.assets.selectors import projects_overview
from hemei.assets.services import (
    AssetData,
    asset_create,
    asset_photo_add,
    asset_status_change,
    asset_update,
    project_create,
    project_income_record,
    project_start,
)
from hemei.core.models import AppendOnlyError, AuditEntry
from hemei.core.scope import SYSTEM
from hemei.regions.models import Region, Role
from tests.conftest import World, make_user

S, C = Asset.Status, Asset.Category


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def data(code: str, name: str = "旧校舍", *, category: str = C.OPERATING, area: str = "100.00", **kw: Any) -> AssetData:
    return AssetData(code=code, name=name, category=category, area=Decimal(area), **kw)


def make(world: World, village: Region, code: str, name: str = "旧校舍", *, status: str = S.IDLE,
         **kw: Any) -> Asset:
    return asset_create(actor=SYSTEM, village=village, data=data(code, name, **kw), status=status)


def counts() -> tuple[int, int, int]:
    return Asset.objects.count(), AssetStatusChange.objects.count(), AuditEntry.objects.count()


@pytest.fixture
def idle_world(world: World) -> dict[str, Asset]:
    v1, v2 = world.village, world.village2
    return {
        "A1": make(world, v1, "XS-1", "旧村委会大院", category=C.NON_OPERATING, area="860.00", location="西邵村中街",
                   latitude=Decimal("37.7123"), longitude=Decimal("112.4512")),
        "A2": make(world, v1, "XS-2", "原砖厂厂房", area="3200.00"),
        "A3": make(world, v1, "XS-3", "果蔬冷库", area="500.00", status=S.IN_USE),
        "B1": make(world, v2, "DS-1", "村北荒坡", category=C.RESOURCE, area="120.00", unit=Asset.Unit.MU),
        "B2": make(world, v2, "DS-2", "旧校舍", area="900.00", status=S.SHARES),
    }


def codes(response: Any) -> set[str]:
    assert response.status_code == 200
    return {a.code for a in response.context["db"].rows}


# --- the township idle-asset database ------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"XS-1", "XS-2", "DS-1"}),  # default: idle ones only
        ("?village=140110101201", {"XS-1", "XS-2"}),
        ("?village=140110101202", {"DS-1"}),
        ("?category=operating", {"XS-2"}),
        ("?category=resource&status=all", {"DS-1"}),
        ("?status=in_use", {"XS-3"}),
        ("?status=shares", {"DS-2"}),
        ("?status=all", {"XS-1", "XS-2", "XS-3", "DS-1", "DS-2"}),
        ("?area_min=800&area_max=1000", {"XS-1"}),
        ("?area_min=800&area_max=1000&status=all", {"XS-1", "DS-2"}),
        ("?area_max=200", {"DS-1"}),
        ("?q=砖厂", {"XS-2"}),
        ("?q=中街", {"XS-1"}),
        ("?village=140110101201&category=operating&area_min=1000", {"XS-2"}),
    ],
)
def test_idle_database_filters_return_exactly_the_expected_rows(world, idle_world, login, query, expected):
    assert codes(login(world.user("township")).get("/w/assets/idle/" + query)) == expected


def test_idle_database_counts_total_area_map_and_plan(world, idle_world, login):
    response = login(world.user("township")).get("/w/assets/idle/")
    db = response.context["db"]
    assert db.count == 3
    # Labels in the page's language (Chinese by default): 平方米 and 亩, never summed together.
    assert dict(db.area_by_unit) == {"平方米": Decimal("4060.00"), "亩": Decimal("120.00")}
    assert [(v["village__name"], v["n"], v["sqm"], v["mu"]) for v in db.by_village] == [
        ("西邵村", 2, Decimal("4060.00"), None), ("东邵村", 1, None, Decimal("120.00"))]
    assert [m["code"] for m in db.markers] == ["XS-1"]
    assert {village: [a.code for a in assets] for village, assets in db.plan} == {"西邵村": ["XS-2"],
                                                                                   "东邵村": ["DS-1"]}
    html = response.content.decode()
    assert 'id="asset-markers"' in html and "vendor/leaflet/leaflet.js" in html
    assert "tile.openstreetmap" not in html  # no tile layer unless HEMEI_MAP_TILES says so


def test_bad_filter_values_are_reported_not_a_500(world, idle_world, login):
    response = login(world.user("township")).get("/w/assets/idle/?area_min=abc&category=nope")
    assert response.status_code == 200
    assert len(response.context["filter"].errors) == 2
    assert response.context["db"].count == 3  # the bad filters are ignored, not applied


def test_the_idle_list_makes_a_fixed_number_of_queries(world, login, django_assert_max_num_queries):
    for i in range(3):
        make(world, world.village, f"Q-{i}", latitude=Decimal("37.7"), longitude=Decimal("112.4"))
    client = login(world.user("township"))
    client.get("/w/assets/idle/")  # warm the session
    with django_assert_max_num_queries(20) as few:
        client.get("/w/assets/idle/")
    for i in range(3, 40):
        make(world, world.village if i % 2 else world.village2, f"Q-{i}",
             latitude=Decimal("37.7") if i % 3 else None, longitude=Decimal("112.4") if i % 3 else None)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/w/assets/idle/")
    assert response.context["db"].count == 40


# --- scopes ----------------------------------------------------------------------------------


def test_village_committee_of_dongshao_cannot_see_xishao_asset(world, idle_world, login):
    other = make_user("ds-secretary", region=world.village2, role=Role.SECRETARY)
    client = login(other)
    assert client.get(f"/w/assets/{idle_world['A1'].pk}/").status_code == 404
    assert client.get(f"/w/assets/{idle_world['B1'].pk}/").status_code == 200
    assert codes(client.get("/w/assets/idle/?status=all")) == {"DS-1", "DS-2"}
    assert client.get("/w/assets/idle/?village=140110101201").status_code == 404


def test_township_staff_of_another_township_sees_nothing(world, idle_world, login):
    other = make_user("t2", region=world.township2, role=Role.TOWNSHIP_STAFF)
    client = login(other)
    assert codes(client.get("/w/assets/idle/?status=all")) == set()
    assert client.get("/w/assets/").context["page"].paginator.count == 0
    assert client.get(f"/w/assets/{idle_world['A1'].pk}/").status_code == 404
    assert client.get("/w/assets/export/?village=140110101201").status_code == 404


def test_township_and_county_see_all_but_do_not_edit(world, idle_world, login):
    for persona in ("township", "county"):
        client = login(world.user(persona))
        assert codes(client.get("/w/assets/idle/?status=all")) == {"XS-1", "XS-2", "XS-3", "DS-1", "DS-2"}
        assert client.get(f"/w/assets/{idle_world['A1'].pk}/edit/").status_code == 403


def test_grid_workers_and_villagers_see_no_register(world, idle_world, login):
    assert codes(login(world.user("grid_a")).get("/w/assets/idle/?status=all")) == set()
    assert login(world.user("villager")).get("/w/assets/").status_code == 404


def test_a_secretary_may_not_write_another_village(world):
    before = counts()
    with pytest.raises(ValidationError):
        asset_create(actor=world.user("secretary"), village=world.village2, data=data("DS-9"))
    assert counts() == before


# --- create / update validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"area": Decimal("-1.00")}, "area"),
        ({"area": 12.5}, "area"),  # a float is refused, never rounded
        ({"area": Decimal("1.005")}, "area"),
        ({"original_value": Decimal("-5.00")}, "original_value"),
        ({"original_value": Decimal("100.123")}, "original_value"),
        ({"original_value": 100.5}, "original_value"),
        ({"original_value": Decimal("10.00"), "net_value": Decimal("20.00")}, "net_value"),
        ({"category": "other"}, "category"),
        ({"name": ""}, "name"),
        ({"notes": "联系人电话13812345678"}, "notes"),
        ({"latitude": Decimal("37.7")}, "latitude"),
        ({"latitude": Decimal("97.7"), "longitude": Decimal("112.4")}, "latitude"),
    ],
)
def test_bad_asset_input_is_refused_and_changes_nothing(world, changes, field):
    before = counts()
    d = data("XS-9")
    for key, value in changes.items():
        setattr(d, key, value)
    with pytest.raises(ValidationError) as exc:
        asset_create(actor=world.user("secretary"), village=world.village, data=d)
    assert field in exc.value.message_dict
    assert counts() == before


def test_duplicate_code_in_a_village_is_refused_but_allowed_in_another(world):
    make(world, world.village, "XS-1")
    before = counts()
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        asset_create(actor=world.user("secretary"), village=world.village, data=data("XS-1"))
    assert "already used" in exc.value.message_dict["code"][0]
    assert counts() == before
    make(world, world.village2, "XS-1")


def test_update_is_audited_and_refuses_a_taken_code(world):
    a = make(world, world.village, "XS-1")
    make(world, world.village, "XS-2")
    d = data("XS-1", "旧校舍（东院）", area="120.50")
    asset_update(actor=world.user("secretary"), asset=a, data=d)
    a.refresh_from_db()
    assert a.name == "旧校舍（东院）" and a.area == Decimal("120.50")
    entry = AuditEntry.objects.filter(object_type="assets.asset", object_id=str(a.pk), action="update").get()
    assert entry.changes["area"] == ["100.00", "120.50"]
    with pytest.raises(ValidationError):
        asset_update(actor=world.user("secretary"), asset=a, data=data("XS-2"))
    a.refresh_from_db()
    assert a.code == "XS-1"


def test_create_and_edit_pages(world, login):
    client = login(world.user("secretary"))
    form = {"village": world.village.code, "code": "XS-7", "name": "旧仓库", "category": "operating",
            "area": "300.5", "unit": "sqm", "original_value": "10000", "net_value": "8000.50", "status": "idle"}
    response = client.post("/w/assets/new/", form)
    asset = Asset.objects.get(code="XS-7")
    assert response.status_code == 302 and asset.status == S.IDLE and asset.net_value == Decimal("8000.50")
    response = client.post(f"/w/assets/{asset.pk}/edit/", {**form, "area": "-3"})
    assert response.status_code == 200 and "area" in response.context["form"].errors
    asset.refresh_from_db()
    assert asset.area == Decimal("300.50")


# --- status history ---------------------------------------------------------------------------------


def test_status_changes_are_append_only_rows_and_audited(world, login):
    a = make(world, world.village, "XS-1")
    asset_status_change(asset=a, status=S.LEASED, actor=world.user("secretary"), reason="合同签订")
    asset_status_change(asset=a, status=S.LEASED, actor=world.user("secretary"), reason="again")  # no change
    asset_status_change(asset=a, status=S.IDLE, actor=world.user("secretary"), reason="合同到期")
    rows = list(AssetStatusChange.objects.filter(asset=a).order_by("at", "id"))
    assert [(r.from_state, r.to_state) for r in rows] == [("", S.IDLE), (S.IDLE, S.LEASED), (S.LEASED, S.IDLE)]
    assert rows[1].note == "合同签订" and rows[1].actor == world.user("secretary")
    assert AuditEntry.objects.filter(object_type="assets.asset", object_id=str(a.pk), action="update").count() == 2
    with pytest.raises(AppendOnlyError):
        rows[0].save()
    with pytest.raises(ValueError):
        asset_status_change(asset=a, status="sold", actor=SYSTEM)
    page = login(world.user("secretary")).get(f"/w/assets/{a.pk}/").content.decode()
    assert "合同到期" in page and "合同签订" in page


# --- photos -------------------------------------------------------------------------------------------


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (37.0, 42.0, 1.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_photos_are_re_encoded_without_exif_and_served_in_scope(world, login):
    a = make(world, world.village, "XS-1")
    client = login(world.user("secretary"))
    response = client.post(f"/w/assets/{a.pk}/photos/", {
        "photos": SimpleUploadedFile("IMG_0001.jpg", jpeg_with_gps(), "image/jpeg"), "caption": "南立面"})
    assert response.status_code == 302
    photo = AssetPhoto.objects.get(asset=a)
    assert "IMG_0001" not in photo.image.name
    with Image.open(photo.image.path) as stored:
        assert not stored.getexif()
    assert client.get(f"/w/assets/{a.pk}/photos/{photo.pk}/").status_code == 200
    other = make_user("ds-secretary", region=world.village2, role=Role.SECRETARY)
    assert login(other).get(f"/w/assets/{a.pk}/photos/{photo.pk}/").status_code == 404


def test_bad_photos_are_refused_and_nothing_is_stored(world, settings):
    a = make(world, world.village, "XS-1")
    good = SimpleUploadedFile("a.jpg", jpeg_with_gps(), "image/jpeg")
    fake = SimpleUploadedFile("b.jpg", b"%PDF-1.4 not an image", "image/jpeg")
    with pytest.raises(ValidationError):
        asset_photo_add(actor=world.user("secretary"), asset=a, uploads=[good, fake])
    settings.HEMEI_PHOTO_MAX_BYTES = 100
    with pytest.raises(ValidationError):
        asset_photo_add(actor=world.user("secretary"), asset=a,
                        uploads=[SimpleUploadedFile("a.jpg", jpeg_with_gps(), "image/jpeg")])
    with pytest.raises(ValidationError):
        asset_photo_add(actor=world.user("township"), asset=a, uploads=[good])
    assert not AssetPhoto.objects.exists()


# --- revitalisation projects ---------------------------------------------------------------------------


def test_starting_a_project_moves_its_idle_assets_to_revitalising(world, login):
    school = make(world, world.village, "XS-1")
    leased = make(world, world.village, "XS-2", "冷库", status=S.LEASED)
    project = project_create(actor=world.user("secretary"), region=world.village, name="研学基地",
                             path=RevitalisationProject.Path.SCHOOL_ENTERPRISE, assets=[school, leased],
                             partner="山西农业大学", expected_annual_income=Decimal("180000.00"))
    project_start(actor=world.user("secretary"), project=project, on=dt.date(2026, 5, 1))
    school.refresh_from_db()
    leased.refresh_from_db()
    assert school.status == S.REVITALISING and leased.status == S.LEASED
    assert AssetStatusChange.objects.filter(asset=school, to_state=S.REVITALISING).count() == 1
    with pytest.raises(ValidationError):
        project_start(actor=world.user("secretary"), project=project)
    assert AssetStatusChange.objects.filter(asset=school).count() == 2


def test_project_assets_must_lie_in_its_region_and_money_is_checked(world):
    school = make(world, world.village2, "DS-1")
    before = RevitalisationProject.objects.count()
    with pytest.raises(ValidationError):
        project_create(actor=SYSTEM, region=world.village, name="x", path="lease", assets=[school])
    with pytest.raises(ValidationError):
        project_create(actor=SYSTEM, region=world.village2, name="x", path="lease", assets=[school],
                       expected_annual_income=Decimal("-1.00"))
    with pytest.raises(ValidationError):
        project_create(actor=SYSTEM, region=world.village2, name="x", path="teleport", assets=[school])
    with pytest.raises(ValidationError):  # the village's secretary of 西邵村 has no say in 东邵村
        project_create(actor=world.user("secretary"), region=world.village2, name="x", path="lease", assets=[school])
    assert RevitalisationProject.objects.count() == before
    # Township staff may record a township project over any of its villages.
    project_create(actor=world.user("township"), region=world.township, name="冷链仓储", path="tenglong",
                   assets=[school])


def test_decision_must_be_a_passed_item_of_the_village(world):
    from hemei.meetings.models import Meeting
    from hemei.meetings.services import agenda_item_add, meeting_record

    held = dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC)
    meeting = meeting_record(actor=SYSTEM, region=world.village, kind=Meeting.Kind.REPRESENTATIVES, held_at=held,
                             attendees=30, eligible=40, at=held)
    item = agenda_item_add(actor=SYSTEM, meeting=meeting, title="旧校舍改建", at=held)
    school = make(world, world.village, "XS-1")
    with pytest.raises(ValidationError):
        project_create(actor=SYSTEM, region=world.village, name="研学基地", path="school_enterprise", assets=[school],
                       decision_item=item)
    assert not RevitalisationProject.objects.exists()


@time_machine.travel(dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC), tick=False)
def test_income_corrections_are_rows_and_the_overview_uses_the_latest(world, login):
    school = make(world, world.village, "XS-1")
    project = project_create(actor=SYSTEM, region=world.village, name="研学基地", path="school_enterprise",
                             assets=[school], expected_annual_income=Decimal("180000.00"))
    project_income_record(actor=world.user("secretary"), project=project, year=2025, amount=Decimal("50000.00"))
    first = project_income_record(actor=world.user("secretary"), project=project, year=2026,
                                  amount=Decimal("90000.00"))
    fixed = project_income_record(actor=world.user("secretary"), project=project, year=2026,
                                  amount=Decimal("96500.00"), note="更正")
    assert fixed.corrects == first and ProjectIncome.objects.count() == 3
    for bad in (Decimal("-1.00"), Decimal("1.001"), 1.5):
        with pytest.raises(ValidationError):
            project_income_record(actor=world.user("secretary"), project=project, year=2026, amount=bad)
    with pytest.raises(ValidationError):
        project_income_record(actor=world.user("secretary"), project=project, year=2099, amount=Decimal("1.00"))
    assert ProjectIncome.objects.count() == 3
    o = projects_overview(world.user("township"), year=2026)
    assert o.actual_total == Decimal("96500.00") and o.expected_total == Decimal("180000.00")
    assert {r["path"]: r["n"] for r in o.by_path}["school_enterprise"] == 1
    assert o.chart == [{"name": "研学基地", "expected": "180000.00", "actual": "96500.00"}]
    response = login(world.user("township")).get("/w/assets/projects/")
    assert response.status_code == 200 and "project-income-data" in response.content.decode()
    other = make_user("t2", region=world.township2, role=Role.TOWNSHIP_STAFF)
    assert projects_overview(other).projects == []
    assert login(other).get(f"/w/assets/projects/{project.pk}/").status_code == 404


# --- the public board ----------------------------------------------------------------------------------


def test_board_section_shows_summary_and_idle_assets_without_personal_data(world, client):
    make(world, world.village, "XS-1", "旧村委会大院", net_value=Decimal("987654.32"),
         original_value=Decimal("999999.99"), ownership="西邵村股份经济合作社")
    make(world, world.village, "XS-2", "果蔬冷库", status=S.IN_USE)
    make(world, world.village2, "DS-1", "东邵旧校舍")
    html = client.get(f"/v/{world.village.code}/assets/").content.decode()
    assert 'id="section-assets"' in html
    section = html[html.index('id="section-assets"'):]
    section = section[: section.index("</section>")]
    assert "旧村委会大院" in section and "果蔬冷库" not in section  # idle ones listed, in-use only counted
    assert "东邵旧校舍" not in section
    for private in ("987654.32", "999999.99", "股份经济合作社", "13800001111", world.head_a.id_number, "王建国"):
        assert private not in section


def test_verify_finds_a_status_saved_behind_the_service(world):
    from hemei.assets.checks import check_status_history

    a = make(world, world.village, "XS-1")
    asset_status_change(asset=a, status=S.LEASED, actor=SYSTEM)
    assert check_status_history() == []
    Asset.objects.filter(pk=a.pk).update(status=S.IDLE)
    assert check_status_history() != []


@time_machine.travel(dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC), tick=False)
def test_project_pages_record_start_and_income(world, login, client):
    assert client.get("/w/assets/idle/").status_code == 302  # anonymous → login
    school = make(world, world.village, "XS-1")
    secretary = login(world.user("secretary"))
    response = secretary.post("/w/assets/projects/new/", {
        "region": world.village.code, "name": "研学基地", "path": "school_enterprise", "partner": "山西农业大学",
        "assets": [str(school.pk)], "expected_annual_income": "180000.00"})
    project = RevitalisationProject.objects.get()
    assert response.status_code == 302 and project.created_by == world.user("secretary")
    assert secretary.post(f"/w/assets/projects/{project.pk}/", {"action": "start"}).status_code == 302
    school.refresh_from_db()
    assert school.status == S.REVITALISING
    response = secretary.post(f"/w/assets/projects/{project.pk}/", {"year": "2026", "amount": "1.005"})
    assert response.status_code == 200 and not ProjectIncome.objects.exists()
    assert secretary.post(f"/w/assets/projects/{project.pk}/", {"year": "2026", "amount": "96500"}).status_code == 302
    assert ProjectIncome.objects.get().amount == Decimal("96500.00")
    # Township staff read every project of the township; a grid worker reads none.
    assert login(world.user("township")).get(f"/w/assets/projects/{project.pk}/").status_code == 200
    assert login(world.user("grid_a")).get(f"/w/assets/projects/{project.pk}/").status_code == 404


def test_the_new_asset_status_defaults_to_in_use_and_a_bad_one_is_refused(world, login):
    client = login(world.user("secretary"))
    form = {"village": world.village.code, "name": "旧仓库", "category": "operating", "area": "30", "unit": "sqm",
            "original_value": "0", "net_value": "0"}
    for bad in ("", "idle\x00", "sold"):  # sent but not a status: the service refuses it
        response = client.post("/w/assets/new/", {**form, "code": "XS-8", "status": bad})
        assert response.status_code == 200 and response.context["form"].non_field_errors(), bad
    assert not Asset.objects.filter(code="XS-8").exists()
    assert client.post("/w/assets/new/", {**form, "code": "XS-8"}).status_code == 302  # none sent: in use
    assert Asset.objects.get(code="XS-8").status == S.IN_USE


def test_a_project_form_key_is_kept_at_100_characters(world, login):
    school = make(world, world.village, "XS-1")
    secretary = login(world.user("secretary"))
    form = {"region": world.village.code, "name": "研学基地", "path": "school_enterprise",
            "assets": [str(school.pk)], "expected_annual_income": "0", "key": "k" * 300}
    assert secretary.post("/w/assets/projects/new/", form).status_code == 302
    assert secretary.post("/w/assets/projects/new/", form).status_code == 302  # sent twice: one project
    assert RevitalisationProject.objects.count() == 1
    page = secretary.get("/w/assets/projects/new/").content.decode()
    assert "k" * 100 not in page  # a fresh form has its own key
