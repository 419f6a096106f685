"""Personal data in a case's free text (issue 11, item 2): masked wherever it reaches anyone but
its author and handlers (Open311 GET, lists, read-only staff, the API, the ledger export), and
the author is told before sending (villager form, staff form, Open311 POST answer)."""

from __future__ import annotations

import datetime as dt
import io
import json
import xml.etree.ElementTree as ET

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from rest_framework.authtoken.models import Token

from hemei.cases.models import Case, Category
from hemei.cases.services import case_submit
from hemei.core.idnumbers import make_id_number
from hemei.regions.models import Role
from tests.conftest import at, make_user

pytestmark = pytest.mark.usefixtures("migration_seeds")

ID = make_id_number("140110", dt.date(1958, 4, 9), 31)
PHONE = "13912345678"
TEXT = f"村口垃圾堆了一周，请联系我 {PHONE}，身份证 {ID}"
MASKED_ID = f"{ID[:6]}********{ID[-4:]}"


def cat() -> Category:
    return Category.objects.get(county__isnull=True, name="环境卫生")


def villager_case(world) -> Case:
    return case_submit(actor=world.user("villager"), region=world.grid_a, category=cat(), title=f"垃圾 {PHONE}",
                       description=TEXT, source=Case.Source.VILLAGER, reporter=world.head_a,
                       household=world.house_a)


def supervisor(world):
    return make_user("supervisor", region=world.village, role=Role.SUPERVISION)


def assert_masked(text: str) -> None:
    assert PHONE not in text and ID not in text
    assert "139****5678" in text and MASKED_ID in text


def test_open311_get_masks_the_description_in_json_and_xml(world, client):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        case = villager_case(world)
        one = client.get(f"/open311/v2/requests/{case.number}.json")
        many = client.get("/open311/v2/requests.json")
        xml = client.get("/open311/v2/requests.xml")
    assert one.status_code == many.status_code == xml.status_code == 200
    assert_masked(json.loads(one.content)[0]["description"])
    assert_masked(json.loads(many.content)[0]["description"])
    root = ET.fromstring(xml.content)  # noqa: S314 (our own server's answer)
    assert_masked(root.find("request").findtext("description"))


def test_open311_post_tells_the_reporter(world, client):
    token = Token.objects.get_or_create(user=world.user("grid_a"))[0].key
    data = {"api_key": token, "service_code": str(cat().pk), "address_id": world.grid_a.code}
    with time_machine.travel(at(2026, 3, 2), tick=False):
        clean = json.loads(client.post("/open311/v2/requests.json", {**data, "description": "路灯坏了"}).content)
        told = json.loads(client.post("/open311/v2/requests.json", {**data, "description": TEXT}).content)
    assert "personal data" not in clean[0]["service_notice"] and "个人信息" not in clean[0]["service_notice"]
    notice = told[0]["service_notice"]
    assert "139****5678" in notice and MASKED_ID in notice and PHONE not in notice
    # Stored as written, for the handlers.
    assert Case.objects.get(number=told[0]["service_request_id"]).description == TEXT


def test_author_and_handlers_read_it_others_see_it_masked(world, login):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        case = villager_case(world)
    author = login(world.user("villager")).get(reverse("my-case", args=[case.number])).content.decode()
    assert TEXT in author
    handler = login(world.user("grid_a")).get(reverse("case-detail", args=[case.number])).content.decode()
    assert TEXT in handler
    reader = login(supervisor(world)).get(reverse("case-detail", args=[case.number]))
    assert reader.status_code == 200
    assert_masked(reader.content.decode())


def test_staff_lists_mask_titles(world, login):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        villager_case(world)
    page = login(world.user("grid_a")).get(reverse("case-list")).content.decode()
    assert PHONE not in page and "139****5678" in page


def test_the_api_masks_for_readers_and_in_lists(world, login):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        case = villager_case(world)
    reader = login(supervisor(world)).get(f"/api/v1/cases/{case.number}/").json()
    assert_masked(reader["description"]) and PHONE not in reader["title"]
    handler = login(world.user("grid_a"))
    assert handler.get(f"/api/v1/cases/{case.number}/").json()["description"] == TEXT
    listing = json.dumps(handler.get("/api/v1/cases/").json(), ensure_ascii=False)
    assert PHONE not in listing and "139****5678" in listing


def test_the_ledger_export_masks_free_text(world, login):
    with time_machine.travel(at(2026, 3, 2), tick=False):
        villager_case(world)
    with time_machine.travel(at(2026, 3, 2, 12), tick=False):
        response = login(world.user("secretary")).get(reverse("case-ledger"), {"region": world.village.code})
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert_masked(rows[1][4])


def test_the_villager_form_warns_before_sending(world, login):
    client = login(world.user("villager"))
    with time_machine.travel(at(2026, 3, 2), tick=False):
        first = client.post(reverse("my-case-new"), {"category": cat().pk, "description": TEXT, "key": "k1"})
        assert first.status_code == 200 and not Case.objects.exists()
        page = first.content.decode()
        assert "personal-data-warning" in page and "139****5678" in page and MASKED_ID in page
        sent = client.post(reverse("my-case-new"), {"category": cat().pk, "description": TEXT, "key": "k1",
                                                    "confirm": "1"})
    assert sent.status_code == 302 and Case.objects.get().description == TEXT


def test_a_clean_text_is_sent_at_once(world, login):
    client = login(world.user("villager"))
    with time_machine.travel(at(2026, 3, 2), tick=False):
        sent = client.post(reverse("my-case-new"), {"category": cat().pk, "description": "2026-03-02 路灯坏了"})
    assert sent.status_code == 302 and Case.objects.count() == 1


def test_the_staff_form_warns_before_saving(world, login):
    client = login(world.user("grid_a"))
    data = {"region": world.grid_a.code, "category": cat().pk, "description": TEXT, "source": "phone", "key": "k2"}
    with time_machine.travel(at(2026, 3, 2), tick=False):
        first = client.post(reverse("case-new"), data)
        assert first.status_code == 200 and not Case.objects.exists()
        assert "personal-data-warning" in first.content.decode()
        sent = client.post(reverse("case-new"), {**data, "confirm": "1"})
    assert sent.status_code == 302 and Case.objects.get().description == TEXT


@time_machine.travel(at(2026, 3, 2), tick=False)
def test_a_case_tabled_at_a_meeting_shows_masked_on_the_public_board(world, client):
    from hemei.cases.deliberation import case_table
    from hemei.cases.services import case_accept
    from hemei.meetings.services import agenda_item_decide, meeting_record

    sec = world.user("secretary")
    case = case_accept(actor=sec, case=villager_case(world), unit="村委会")
    m = meeting_record(actor=sec, region=world.village, kind="deliberation", held_at=at(2026, 3, 1, 9),
                       place="村委会议室", attendees=12, eligible=15, convened_by="村党支部")
    item = case_table(actor=sec, case=case, meeting=m)  # the item takes the case's title
    agenda_item_decide(actor=sec, item=item, votes_for=10, votes_against=1, votes_abstain=1,
                       decision=f"同意，联系人 {PHONE}")
    page = client.get(reverse("public-meetings", args=[world.village.code])).content.decode()
    assert PHONE not in page and "139****5678" in page
    board = "".join(client.get(reverse("village-board-section", args=[world.village.code, key])).content.decode()
                    for key in ("disclosures", "cases"))
    assert PHONE not in board + client.get(reverse("village-board", args=[world.village.code])).content.decode()
