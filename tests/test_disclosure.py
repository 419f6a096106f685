"""三务公开: the review workflow, immutability, the hash chain, personal-data warnings, scope,
attachments and schedules escalating exactly once through the shared sweep."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.http import Http404
from PIL import Image

from hemei.core.idnumbers import make_id_number
from hemei.core.models import GENESIS_HASH, AuditEntry, ChainHead
from hemei.core.sweeps import sweep_all
from hemei.disclosure import schedules, services
from hemei.disclosure.integrity import verify_chains
from hemei.disclosure.models import (
    Disclosure,
    DisclosureAttachment,
    DisclosureVersion,
    Kind,
    ScheduleDue,
    ScheduleSettings,
)
from hemei.disclosure.personal import find_personal_data, redact
from hemei.regions.models import Role
from tests.conftest import World, at, make_user

S = DisclosureVersion.Status
ID = make_id_number("140110", dt.date(1965, 3, 2), 129)  # ends in X: lower-case x is found too


@pytest.fixture
def staff(world: World) -> dict[str, Any]:
    return {
        "supervisor": make_user("supervisor", region=world.village, role=Role.SUPERVISION),
        "accountant": make_user("accountant", region=world.village, role=Role.ACCOUNTANT),
        "secretary2": make_user("secretary2", region=world.village2, role=Role.SECRETARY),
    }


def draft(
    world: World,
    *,
    body: str = "2026年第三季度村务：修缮村道 1.2 公里。",
    kind: str = Kind.VILLAGE,
    title: str = "第三季度村务公开",
    **kw: Any,
) -> DisclosureVersion:
    return services.disclosure_create(
        actor=world.user("secretary"),
        village=world.village,
        kind=kind,
        title=title,
        body=body,
        period_start=dt.date(2026, 7, 1),
        period_end=dt.date(2026, 9, 30),
        **kw,
    )


def publish(world: World, staff: dict[str, Any], version: DisclosureVersion, **kw: Any) -> DisclosureVersion:
    services.version_submit(actor=world.user("secretary"), version=version, confirm=kw.pop("confirm", False))
    services.version_review(actor=staff["supervisor"], version=version, approve=True)
    return services.version_publish(actor=world.user("secretary"), version=version, **kw)


def test_it_goes_from_draft_through_review_to_published(world: World, staff: dict[str, Any]) -> None:
    version = draft(world)
    assert version.status == S.DRAFT
    assert services.version_submit(actor=world.user("secretary"), version=version).submitted
    services.version_review(actor=staff["supervisor"], version=version, approve=True)
    services.version_publish(actor=world.user("secretary"), version=version)
    version.refresh_from_db()
    assert version.status == S.PUBLISHED and version.sequence == 1 and version.prev_hash == GENESIS_HASH
    assert len(version.hash) == 64
    chain = ChainHead.objects.get(chain="disclosure", village=world.village)
    assert (chain.length, chain.head_hash) == (1, version.hash)
    assert [e.kind for e in version.events.all()] == ["created", "submitted", "approved", "published"]
    assert verify_chains() == []


def test_it_refuses_publishing_without_review(world: World, staff: dict[str, Any]) -> None:
    version = draft(world)
    with pytest.raises(ValidationError) as exc:
        services.version_publish(actor=world.user("secretary"), version=version)
    assert exc.value.code == "not_reviewed"
    services.version_submit(actor=world.user("secretary"), version=version)
    with pytest.raises(ValidationError):
        services.version_publish(actor=world.user("secretary"), version=version)
    version.refresh_from_db()
    assert version.status == S.SUBMITTED and version.sequence is None
    assert not ChainHead.objects.filter(chain="disclosure").exists()


def test_only_the_supervision_committee_reviews_and_never_its_own_text(world: World, staff: dict[str, Any]) -> None:
    version = draft(world)
    services.version_submit(actor=world.user("secretary"), version=version)
    for who in (world.user("secretary"), world.user("township"), staff["accountant"]):
        with pytest.raises(PermissionDenied):
            services.version_review(actor=who, version=version, approve=True)
    with pytest.raises(Http404):
        services.version_review(actor=world.user("grid_b"), version=version, approve=True)
    version.refresh_from_db()
    assert version.status == S.SUBMITTED and version.reviewed_by_id is None


def test_township_reviews_only_where_the_village_has_no_supervision_committee(
    world: World, staff: dict[str, Any]
) -> None:
    other = services.disclosure_create(
        actor=staff["secretary2"],
        village=world.village2,
        kind=Kind.PARTY,
        title="党费收缴",
        body="第三季度党费收缴情况。",
        period_start=dt.date(2026, 7, 1),
        period_end=dt.date(2026, 9, 30),
    )
    services.version_submit(actor=staff["secretary2"], version=other)
    services.version_review(actor=world.user("township"), version=other, approve=True)
    other.refresh_from_db()
    assert other.status == S.APPROVED and other.reviewed_by == world.user("township")


def test_returning_needs_comments_and_the_returned_version_is_edited_and_resubmitted(
    world: World, staff: dict[str, Any]
) -> None:
    version = draft(world)
    services.version_submit(actor=world.user("secretary"), version=version)
    with pytest.raises(ValidationError):
        services.version_review(actor=staff["supervisor"], version=version, approve=False, comment=" ")
    services.version_review(actor=staff["supervisor"], version=version, approve=False, comment="金额需列明细")
    version.refresh_from_db()
    assert version.status == S.RETURNED and version.review_comment == "金额需列明细"
    services.version_edit(actor=world.user("secretary"), version=version, title=version.title, body="明细：……")
    assert services.version_submit(actor=world.user("secretary"), version=version).submitted
    version.refresh_from_db()
    assert version.status == S.SUBMITTED and version.body == "明细：……"


def test_a_published_version_never_changes(world: World, staff: dict[str, Any]) -> None:
    version = publish(world, staff, draft(world))
    before = (version.title, version.body, version.hash)
    with pytest.raises(ValidationError) as exc:
        services.version_edit(actor=world.user("secretary"), version=version, title="改", body="改过的正文")
    assert exc.value.code == "published"
    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    with pytest.raises(ValidationError):
        services.attachment_add(actor=world.user("secretary"), version=version, upload=pdf)
    with pytest.raises(ValidationError):
        services.version_submit(actor=world.user("secretary"), version=version)
    version.refresh_from_db()
    assert (version.title, version.body, version.hash) == before
    assert not DisclosureAttachment.objects.exists()


def test_a_correction_is_a_new_version_with_a_reason_and_both_stay_published(
    world: World, staff: dict[str, Any]
) -> None:
    first = publish(world, staff, draft(world))
    with pytest.raises(ValidationError):
        services.correction_start(actor=world.user("secretary"), disclosure=first.disclosure, reason="")
    second = services.correction_start(
        actor=world.user("secretary"),
        disclosure=first.disclosure,
        reason="修缮长度更正为 1.5 公里",
        body="修缮村道 1.5 公里。",
    )
    assert second.number == 2 and second.status == S.DRAFT
    with pytest.raises(ValidationError):  # one open version at a time
        services.correction_start(actor=world.user("secretary"), disclosure=first.disclosure, reason="再改")
    publish(world, staff, second)
    second.refresh_from_db()
    assert second.sequence == 2 and second.prev_hash == first.hash
    assert list(first.disclosure.versions.values_list("status", flat=True)) == [S.PUBLISHED, S.PUBLISHED]
    assert verify_chains() == []


def test_personal_data_warns_the_author_before_review(world: World, staff: dict[str, Any]) -> None:
    version = draft(world, body=f"低保户王某，身份证 {ID}，电话 13912345678，卡号 6222 0212 3456 7898 )")
    result = services.version_submit(actor=world.user("secretary"), version=version)
    assert not result.submitted and len(result.warnings) == 2  # the card fails Luhn; see the next test
    assert any("140110********" in w for w in result.warnings) and any("139****5678" in w for w in result.warnings)
    version.refresh_from_db()
    assert version.status == S.DRAFT and version.submitted_at is None
    confirmed = services.version_submit(actor=world.user("secretary"), version=version, confirm=True)
    assert confirmed.submitted
    version.refresh_from_db()
    assert version.status == S.SUBMITTED and {w["kind"] for w in version.warnings} == {"id_number", "phone"}


def test_it_finds_valid_id_numbers_mobiles_and_bank_cards_only() -> None:
    card = "6222021234567894"  # Luhn-valid
    wrong_check = ID[:-1] + "0"  # the check character is X: this one is invalid and not flagged
    text = f"号码 {ID.lower()} 与 {wrong_check} 手机13800001111 座机 0351-1234567 卡 {card} 金额 1949000.00"
    assert [f.kind for f in find_personal_data(text)] == ["id_number", "phone", "bank_card"]
    masked = redact(text)
    assert ID.lower() not in masked and "13800001111" not in masked and card not in masked
    assert "1949000.00" in masked and wrong_check in masked and "140110********129X" in masked


def test_the_page_shows_warnings_and_submits_only_after_confirmation(
    world: World, staff: dict[str, Any], login: Any
) -> None:
    version = draft(world, body=f"联系人电话 13912345678，身份证 {ID}")
    client = login(world.user("secretary"))
    url = f"/w/disclosure/{version.disclosure_id}/"
    response = client.post(f"{url}submit/", follow=True)
    html = response.content.decode()
    assert "139****5678" in html and "13912345678" not in html.replace(version.body, "")
    version.refresh_from_db()
    assert version.status == S.DRAFT
    client.post(f"{url}submit/", {"confirm": "1"})
    version.refresh_from_db()
    assert version.status == S.SUBMITTED


def test_tampering_with_a_published_row_makes_hemei_verify_fail(world: World, staff: dict[str, Any]) -> None:
    version = publish(world, staff, draft(world))
    call_command("verify", stdout=io.StringIO())  # passes before
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # a superuser switching the triggers off, as an attacker might
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE disclosure_disclosureversion SET body = %s WHERE id = %s", ["改过的", version.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    out = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("verify", stdout=out)
    assert exc.value.code == 1
    assert "FAIL disclosure-chains" in out.getvalue() and "changed after publication" in out.getvalue()


def test_a_broken_link_is_found(world: World, staff: dict[str, Any]) -> None:
    first = publish(world, staff, draft(world))
    second = publish(world, staff, draft(world, title="第二条"))
    assert verify_chains() == []
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE disclosure_disclosureversion SET prev_hash = %s WHERE id = %s", ["0" * 64, second.pk]
            )
        assert any("prev_hash" in p for p in verify_chains())
    assert first.hash != second.hash


@pytest.mark.postgres_only
def test_postgres_refuses_update_and_delete_of_published_rows(world: World, staff: dict[str, Any]) -> None:
    from django.db import DatabaseError

    version = publish(world, staff, draft(world))
    for sql in (
        "UPDATE disclosure_disclosureversion SET body = 'x' WHERE id = %s",
        "DELETE FROM disclosure_disclosureversion WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [version.pk])
    version.refresh_from_db()
    assert version.body.startswith("2026年第三季度")
    call_command("verify", stdout=io.StringIO())


# --- attachments -------------------------------------------------------------------------------


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, format="JPEG")
    return out.getvalue()


def test_attachments_are_checked_by_content(world: World, settings: Any) -> None:
    version = draft(world)
    actor = world.user("secretary")
    pdf = services.attachment_add(
        actor=actor, version=version, upload=SimpleUploadedFile("账.pdf", b"%PDF-1.7\n1 0 obj\n%%EOF")
    )
    photo = services.attachment_add(actor=actor, version=version, upload=SimpleUploadedFile("现场.png", _jpeg()))
    assert (pdf.content_type, photo.content_type) == ("application/pdf", "image/jpeg")
    assert photo.name == "现场.jpg" and len(pdf.sha256) == 64
    for bad in (SimpleUploadedFile("假.pdf", b"<html>not a pdf</html>"), SimpleUploadedFile("x.jpg", b"GIF89" * 3)):
        with pytest.raises(ValidationError):
            services.attachment_add(actor=actor, version=version, upload=bad)
    settings.HEMEI_UPLOAD_MAX_BYTES = 10
    with pytest.raises(ValidationError) as exc:
        services.attachment_add(actor=actor, version=version, upload=SimpleUploadedFile("b.pdf", b"%PDF-" + b"0" * 20))
    assert exc.value.code == "too_large"
    assert DisclosureAttachment.objects.count() == 2


def test_an_attachment_is_part_of_the_hash(world: World, staff: dict[str, Any]) -> None:
    version = draft(world)
    services.attachment_add(
        actor=world.user("secretary"), version=version, upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4 one")
    )
    publish(world, staff, version)
    assert verify_chains() == []
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("UPDATE disclosure_disclosureattachment SET sha256 = %s", ["f" * 64])
        assert any("changed after publication" in p for p in verify_chains())


# --- scope -------------------------------------------------------------------------------------


def test_scope_grid_worker_outsider_and_other_village_get_404(
    world: World, staff: dict[str, Any], login: Any, client: Any
) -> None:
    version = draft(world)
    url = f"/w/disclosure/{version.disclosure_id}/"
    assert login(world.user("secretary")).get(url).status_code == 200
    for who in (world.user("grid_b"), world.user("outsider"), staff["secretary2"]):
        client.force_login(who)
        assert client.get(url).status_code == 404
        assert client.post(f"{url}publish/").status_code == 404
        assert version.title not in client.get("/w/disclosure/").content.decode()
    client.force_login(world.user("township"))
    assert client.get(url).status_code == 200
    with pytest.raises(Http404):
        services.disclosure_create(
            actor=staff["secretary2"],
            village=world.village,
            kind=Kind.PARTY,
            title="x",
            body="y",
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 3, 31),
        )
    with pytest.raises(PermissionDenied):  # in scope, but township staff do not author village texts
        services.disclosure_create(
            actor=world.user("township"),
            village=world.village,
            kind=Kind.PARTY,
            title="x",
            body="y",
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 3, 31),
        )
    assert Disclosure.objects.count() == 1


def test_pages_walk_the_workflow(world: World, staff: dict[str, Any], client: Any) -> None:
    client.force_login(world.user("secretary"))
    response = client.post(
        "/w/disclosure/new/",
        {
            "village": world.village.code,
            "kind": "party",
            "title": "党员发展公示",
            "body": "拟发展党员一名。",
            "period_start": "2026-10-01",
            "period_end": "2026-10-31",
        },
    )
    d = Disclosure.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/w/disclosure/{d.pk}/"
    client.post(f"/w/disclosure/{d.pk}/submit/")
    client.force_login(staff["supervisor"])
    assert "党员发展公示" in client.get("/w/disclosure/review/").content.decode()
    client.post(f"/w/disclosure/{d.pk}/review/", {"decision": "approve"})
    client.force_login(world.user("secretary"))
    client.post(f"/w/disclosure/{d.pk}/publish/")
    assert d.versions.get().status == S.PUBLISHED
    assert client.get(f"/w/disclosure/{d.pk}/correct/").status_code == 200
    client.post(f"/w/disclosure/{d.pk}/correct/", {"reason": "日期更正", "title": "党员发展公示", "body": "更正。"})
    assert d.versions.count() == 2


def test_the_list_costs_the_same_for_many_disclosures(
    world: World, staff: dict[str, Any], login: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(12):
        draft(world, title=f"公开 {i}")
    client = login(world.user("secretary"))
    with django_assert_max_num_queries(18):  # base page (session, posts, inbox) + 5 own
        response = client.get("/w/disclosure/")
    assert response.status_code == 200 and "公开 11" in response.content.decode()


# --- schedules ---------------------------------------------------------------------------------


def _schedule(world: World) -> ScheduleSettings:
    return schedules.schedule_settings_save(
        actor=world.user("secretary"), village=world.village, tracked_from=dt.date(2026, 7, 1), values={}
    )


def test_finances_of_a_month_are_due_on_the_tenth_working_day_after(world: World, migration_seeds: None) -> None:
    # October 2026 ends on a Saturday; 国庆 is over; the 10th working day of November is Fri 13th.
    due = schedules.due_for(dt.date(2026, 10, 31), 10, world.county.code)
    assert due == at(2026, 11, 13, 17, 30)
    # September's: Oct 1–7 are the National Day holidays, Sat Oct 10 a make-up day → Tue Oct 20th.
    assert schedules.due_for(dt.date(2026, 9, 30), 10, world.county.code).date() == dt.date(2026, 10, 20)


def test_periods_follow_the_settings(world: World, staff: dict[str, Any]) -> None:
    settings = _schedule(world)
    assert list(schedules.periods(settings, Kind.FINANCE, dt.date(2026, 10, 15))) == [
        (dt.date(2026, 7, 1), dt.date(2026, 7, 31)),
        (dt.date(2026, 8, 1), dt.date(2026, 8, 31)),
        (dt.date(2026, 9, 1), dt.date(2026, 9, 30)),
    ]
    assert list(schedules.periods(settings, Kind.PARTY, dt.date(2026, 10, 15))) == [
        (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    ]
    with pytest.raises(ValidationError):
        schedules.schedule_settings_save(
            actor=world.user("secretary"),
            village=world.village,
            tracked_from=dt.date(2026, 7, 1),
            values={"village_months": "6"},
        )
    with pytest.raises(PermissionDenied):
        schedules.schedule_settings_save(
            actor=staff["accountant"], village=world.village, tracked_from=dt.date(2026, 7, 1), values={}
        )


def test_a_missed_schedule_escalates_to_the_township_exactly_once(
    world: World, staff: dict[str, Any], migration_seeds: None
) -> None:
    _schedule(world)
    # The third quarter's party and village affairs published on time; finances never.
    publish(world, staff, draft(world, kind=Kind.PARTY, title="党务"), now=at(2026, 10, 12))
    publish(world, staff, draft(world, kind=Kind.VILLAGE), now=at(2026, 10, 12))
    moment = at(2026, 10, 21, 9)  # July–September finances were due by Oct 20th at the latest
    first = sweep_all(moment, only=["disclosure"])
    assert sorted(e.ref for e in first) == [f"{world.village.code} finance 2026-{m:02d}" for m in (7, 8, 9)]
    assert {(e.kind, e.deadline, e.from_tier, e.to_tier) for e in first} == {
        ("disclosure", "publish", "village", "township")
    }
    # A second sweeper at the same moment finds nothing left to do.
    assert sweep_all(moment, only=["disclosure"]) == []
    assert ScheduleDue.objects.filter(tier="township", was_overdue=True).count() == 3
    assert AuditEntry.objects.filter(note="escalated", object_type="disclosure.scheduledue").count() == 3
    party = ScheduleDue.objects.get(kind=Kind.PARTY)
    assert party.fulfilled_at is not None and party.tier == "village"
    from hemei.notify.models import Notification

    told = Notification.objects.filter(kind="disclosure_overdue")
    assert told.filter(recipient=world.user("township")).count() == 3
    assert told.filter(recipient=world.user("secretary")).count() == 3
    assert not told.filter(recipient__in=[world.user("county"), world.user("grid_a")]).exists()


def test_a_claimed_row_is_not_escalated_twice(world: World, migration_seeds: None) -> None:
    """Two sweepers read the same late row; the second's conditional update matches nothing."""
    _schedule(world)
    moment = at(2026, 8, 20, 9)
    schedules.schedule_refresh(moment)
    due = ScheduleDue.objects.get(kind=Kind.FINANCE)
    results = [schedules.escalate(due.pk, moment), schedules.escalate(due.pk, moment)]
    assert [r is not None for r in results] == [True, False]
    due.refresh_from_db()
    assert due.tier == "township"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_sweeper_threads_escalate_a_missed_schedule_exactly_once(world: World, migration_seeds: None) -> None:
    import threading

    if connection.vendor != "postgresql":
        pytest.fail("runs in the PostgreSQL pass")
    _schedule(world)
    moment = at(2026, 8, 20, 9)  # July's finances were due on August 14th
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(len(sweep_all(moment, only=["disclosure"])))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sorted(results) == [0, 1]
    assert ScheduleDue.objects.get(kind=Kind.FINANCE).tier == "township"
    assert AuditEntry.objects.filter(note="escalated", object_type="disclosure.scheduledue").count() == 1


def test_a_major_item_is_due_at_once(world: World, staff: dict[str, Any], migration_seeds: None) -> None:
    version = draft(world, title="村集体土地流转（重大事项）", major=True, now=at(2026, 10, 26, 9))
    due = ScheduleDue.objects.get(major=True)
    assert due.due_at == at(2026, 11, 2, 17, 30)  # 5 working days after Monday: the next Monday
    assert sweep_all(at(2026, 11, 2, 17, 0), only=["disclosure"]) == []
    escalated = sweep_all(at(2026, 11, 3), only=["disclosure"])
    assert [e.ref for e in escalated] == [f"{world.village.code} village 2026-07 major"]
    publish(world, staff, version, now=at(2026, 11, 4))
    due.refresh_from_db()
    assert due.fulfilled_at is not None and due.tier == "township"


# --- demo --------------------------------------------------------------------------------------


def test_the_demo_publishes_a_year_and_escalates_one_missed_quarter(
    world: World, migration_seeds: None, client: Any
) -> None:
    from hemei.disclosure.demo import demo_disclosure
    from hemei.disclosure.finance import income_by_year

    make_user("supervisor", region=world.village, role=Role.SUPERVISION)
    make_user("accountant", region=world.village, role=Role.ACCOUNTANT)
    out = io.StringIO()
    published = demo_disclosure(stdout=out)
    assert published == 12 + 3 + 2 + 1
    assert "1 overdue escalated" in out.getvalue()
    statements = DisclosureVersion.objects.filter(disclosure__kind=Kind.FINANCE, status=S.PUBLISHED)
    assert statements.count() == 12
    corrected = Disclosure.objects.get(title="2026年第3季度村务公开", kind=Kind.VILLAGE)
    assert list(corrected.versions.values_list("number", "status")) == [(1, S.PUBLISHED), (2, S.PUBLISHED)]
    overdue = ScheduleDue.objects.get(tier="township")
    assert (overdue.kind, overdue.period_start, overdue.was_overdue) == (Kind.PARTY, dt.date(2026, 4, 1), True)
    assert ScheduleDue.objects.filter(fulfilled_at__isnull=True).count() == 2  # Q2 party, October finances
    chart = income_by_year(world.village)
    assert chart[0] == {"name": "2019", "value": 23.7} and chart[-1] == {"name": "2026", "value": 194.9}
    assert [r["value"] for r in chart] == sorted(r["value"] for r in chart)
    assert verify_chains() == []
    assert demo_disclosure() == 0  # once only
    html = client.get(f"/v/{world.village.code}/").content.decode()
    assert "2026年9月财务收支公开" in html and "道路硬化长度核实后更正为 1.1 公里" in html
