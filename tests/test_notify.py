"""Notifications (issue 3, escalation and supervision): who is told about which case event,
email and SMS only after commit, masked SMS logging, reminders once per deadline, the inbox."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from hemei.cases.models import Case, CaseEvent, Category
from hemei.cases.services import case_accept, case_rate, case_reject, case_resolve, case_submit
from hemei.cases.sweep import remind_due_cases, sweep
from hemei.core.sweeps import sweep_all
from hemei.notify import sms
from hemei.notify.models import Delivery, Notification, Reminder
from hemei.notify.services import notify, scrub
from hemei.notify.sweep import retry_deliveries
from hemei.regions.models import Role
from tests.conftest import at, make_user

pytestmark = pytest.mark.usefixtures("migration_seeds")

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
LOCMEM_SMS = "hemei.notify.sms.LocmemSmsBackend"


class BrokenSmsBackend:
    def send(self, phone: str, text: str) -> str:
        raise ConnectionError(f"gateway refused {phone}")


@pytest.fixture(autouse=True)
def _channels(settings: Any) -> None:
    settings.TASKS = IMMEDIATE
    settings.HEMEI_SMS_BACKEND = LOCMEM_SMS
    settings.HEMEI_NOTIFY_EMAIL = True
    settings.HEMEI_REMINDER_HOURS = 24
    sms.outbox.clear()


def submit(world: Any, *, reporter: Any = None, title: str = "垃圾没人清") -> Case:
    reporter = reporter or world.head_a
    category = Category.objects.get(county__isnull=True, name="环境卫生")
    return case_submit(
        actor=world.user("villager"),
        region=reporter.region,
        category=category,
        title=title,
        description="村口垃圾堆了一周",
        source=Case.Source.VILLAGER,
        reporter=reporter,
    )


def told(kind: str | None = None, ref: str | None = None) -> set[str]:
    qs = Notification.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    if ref:
        qs = qs.filter(ref=ref)
    return set(qs.values_list("recipient__username", flat=True))


# --- recipients --------------------------------------------------------------------------------


def test_submission_tells_the_grid_worker_and_village_heads_only(world: Any) -> None:
    case = submit(world)
    assert told("case_submitted", case.number) == {"grid1", "secretary"}
    note = Notification.objects.get(recipient=world.user("grid_a"))
    assert note.link == reverse("case-detail", args=[case.number]) and note.county_id == world.county.pk
    assert note.title.endswith("垃圾没人清")


def test_grid_b_does_not_hear_of_grid_a_cases_and_the_reverse(world: Any) -> None:
    case_a = submit(world)
    case_b = submit(world, reporter=world.head_b)
    assert "grid2" not in told(ref=case_a.number)
    assert told("case_submitted", case_b.number) == {"grid2", "secretary"}


def test_accepting_tells_the_reporter_in_plain_chinese_and_the_responsible(world: Any) -> None:
    case = submit(world)
    case_accept(actor=world.user("secretary"), case=case, responsible=world.user("grid_a"))
    notice = Notification.objects.get(kind="case_accepted")
    assert notice.recipient == world.user("villager")
    assert notice.link == reverse("my-case", args=[case.number])
    with translation.override("zh-hans"):  # the site language, whatever the actor's
        assert notice.title == gettext("Your request has been taken on")
    assert told("case_assigned") == {"grid1"}
    assert "secretary" not in told("case_accepted") | told("case_assigned")  # nobody is told of their own act


def test_the_actor_is_not_told_and_rating_reaches_the_responsible(world: Any) -> None:
    case = submit(world)
    case = case_accept(actor=world.user("secretary"), case=case, responsible=world.user("grid_a"))
    case = case_resolve(actor=world.user("grid_a"), case=case, measures="已清运")
    assert told("case_resolved") == {"villager"}
    case_rate(actor=world.user("villager"), case=case, rating=Case.Rating.UNSATISFIED)
    assert told("case_reopened") == {"grid1"}  # the villager reopened it and is not told


def test_escalation_tells_the_township_then_the_county_and_reminds_the_responsible(world: Any) -> None:
    with time_machine.travel(at(2026, 3, 2), tick=False):
        case = submit(world)
        case_accept(actor=world.user("secretary"), case=case, responsible=world.user("grid_a"))
    Notification.objects.all().delete()
    assert [e.ref for e in sweep(at(2026, 3, 17, 9))] == [case.number]
    assert told("case_escalated") == {"township"}
    assert told("case_overdue") == {"grid1"}
    assert "county" not in told() and "secretary" not in told("case_escalated")
    sweep(at(2026, 4, 1, 9))
    assert told("case_escalated") == {"township", "county"}


def test_accept_deadline_missed_reminds_the_village_staff(world: Any) -> None:
    with time_machine.travel(at(2026, 3, 2), tick=False):
        case = submit(world)
    Notification.objects.all().delete()
    sweep(at(2026, 3, 2, 18))
    assert told("case_escalated", case.number) == {"township"}
    assert told("case_overdue", case.number) == {"grid1", "secretary"}


def test_other_townships_staff_are_not_told(world: Any) -> None:
    make_user("town2", region=world.township2, role=Role.TOWNSHIP_STAFF)
    with time_machine.travel(at(2026, 3, 2), tick=False):
        submit(world)
    sweep(at(2026, 3, 2, 18))
    assert "town2" not in told()


def test_extension_asked_goes_to_the_tier_above_and_the_grant_to_the_reporter(world: Any) -> None:
    from hemei.cases.services import case_extension_ask, case_extension_decide

    case = accepted_case(world)
    with time_machine.travel(at(2026, 3, 10), tick=False):
        ext = case_extension_ask(actor=world.user("grid_a"), case=case, until=at(2026, 3, 30, 17, 30), reason="等材料")
        assert told("case_extension_asked") == {"township"}
        case_extension_decide(actor=world.user("township"), extension=ext, grant=True)
    assert told("case_extension_granted") == {"villager", "grid1"}
    assert (
        "2026-03-30 17:30"
        in Notification.objects.get(kind="case_extension_granted", recipient__username="villager").body
    )


def test_a_merge_tells_only_the_duplicates_reporter(world: Any) -> None:
    from hemei.cases.services import case_merge

    first = submit(world)  # the same villager reported it twice: both timelines get a merge event
    duplicate = submit(world)
    case_merge(actor=world.user("secretary"), case=duplicate, into=first)
    assert told("case_merged") == {"villager"}
    assert Notification.objects.get(kind="case_merged").ref == duplicate.number


# --- email and SMS after commit ------------------------------------------------------------


def with_addresses(world: Any) -> None:
    for persona, email in (("grid_a", "grid1@example.org"), ("secretary", "sec@example.org")):
        user = world.user(persona)
        user.email = email
        user.save(update_fields=["email"])


def test_emails_go_out_after_commit(world: Any, django_capture_on_commit_callbacks: Any) -> None:
    with_addresses(world)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = submit(world)
        assert mail.outbox == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == ["grid1@example.org", "sec@example.org"]
    assert all(case.number in m.body for m in mail.outbox)
    assert set(Delivery.objects.values_list("channel", "status")) == {("email", "sent")}


def test_a_rolled_back_case_notifies_nobody(world: Any, django_capture_on_commit_callbacks: Any) -> None:
    with_addresses(world)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        submit(world)
        raise RuntimeError("the request failed after the case was written")
    assert mail.outbox == [] and sms.outbox == []
    assert Notification.objects.count() == 0 and Delivery.objects.count() == 0 and Case.objects.count() == 0


def test_no_email_when_switched_off(world: Any, settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.HEMEI_NOTIFY_EMAIL = False
    with_addresses(world)
    with django_capture_on_commit_callbacks(execute=True):
        submit(world)
    assert mail.outbox == [] and Delivery.objects.count() == 0 and Notification.objects.count() == 2


def test_sms_to_the_villager_is_logged_masked(world: Any, caplog: Any, django_capture_on_commit_callbacks: Any) -> None:
    case = submit(world)
    case = case_accept(actor=world.user("secretary"), case=case, unit="村委会")
    caplog.set_level(logging.INFO, logger="hemei.sms")
    with django_capture_on_commit_callbacks(execute=True):
        case_reject(actor=world.user("secretary"), case=case, reason="不属于本村")
    assert [(m.phone, case.number in m.text) for m in sms.outbox] == [("13800001111", True)]
    lines = [r.getMessage() for r in caplog.records if r.name == "hemei.sms"]
    assert lines and all("13800001111" not in line for line in lines)
    assert any("138****1111" in line for line in lines)
    delivery = Delivery.objects.get(channel="sms")
    assert delivery.status == "sent" and delivery.message_id == sms.outbox[0].message_id


def test_the_accepted_notice_goes_to_inbox_not_sms(world: Any, django_capture_on_commit_callbacks: Any) -> None:
    case = submit(world)
    with django_capture_on_commit_callbacks(execute=True):
        case_accept(actor=world.user("secretary"), case=case, unit="村委会")
    assert sms.outbox == [] and told("case_accepted") == {"villager"}


def test_a_failed_sms_is_recorded_without_the_phone_and_retried(
    world: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.HEMEI_SMS_BACKEND = "tests.test_notify.BrokenSmsBackend"
    case = submit(world)
    case = case_accept(actor=world.user("secretary"), case=case, unit="村委会")
    with django_capture_on_commit_callbacks(execute=True):
        case_reject(actor=world.user("secretary"), case=case, reason="重复")
    delivery = Delivery.objects.get(channel="sms")
    assert delivery.status == "failed" and delivery.attempts == 1
    assert "ConnectionError" in delivery.error and "13800001111" not in delivery.error
    settings.HEMEI_SMS_BACKEND = LOCMEM_SMS
    assert delivery.last_attempt_at is not None
    retry_deliveries(delivery.last_attempt_at + dt.timedelta(minutes=1))  # too early: backs off
    assert Delivery.objects.get(pk=delivery.pk).status == "failed" and sms.outbox == []
    assert retry_deliveries(delivery.last_attempt_at + dt.timedelta(minutes=11)) == []
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 2 and len(sms.outbox) == 1


def test_texts_are_scrubbed_and_links_stay_on_the_site(world: Any) -> None:
    assert scrub("请打电话13800001111") == "请打电话138****1111"
    assert "140110197005061234" not in scrub("身份证140110197005061234")
    case = submit(world, title="请打13800001111联系")
    assert not Notification.objects.filter(title__contains="13800001111").exists()
    assert Notification.objects.filter(ref=case.number, title__contains="138****1111").exists()
    before = Notification.objects.count()
    with pytest.raises(ValueError):
        notify(recipients=[world.user("grid_a")], kind="x", title="t", link="https://evil.example/")
    with pytest.raises(ValueError):
        notify(recipients=[world.user("grid_a")], kind="x", title="t", link="//evil.example/")
    assert Notification.objects.count() == before


# --- reminders --------------------------------------------------------------------------------


def accepted_case(world: Any) -> Case:
    with time_machine.travel(at(2026, 3, 2), tick=False):
        case = submit(world)
        return case_accept(actor=world.user("secretary"), case=case, responsible=world.user("grid_a"))


def test_reminder_once_per_deadline_even_with_two_sweeps(world: Any) -> None:
    case = accepted_case(world)
    assert case.resolve_by == at(2026, 3, 16, 17, 30)
    assert sweep_all(at(2026, 3, 15, 9)) == []  # 32 h before: not yet
    assert Reminder.objects.count() == 0
    for _ in range(2):
        assert sweep_all(at(2026, 3, 16, 9)) == []  # reminders are not escalations
    assert Reminder.objects.count() == 1
    assert case.events.filter(kind=CaseEvent.Kind.REMINDED).count() == 1
    assert told("case_reminded") == {"grid1"}
    assert Notification.objects.filter(kind="case_reminded").count() == 1
    remind_due_cases(at(2026, 3, 16, 12))
    assert Reminder.objects.count() == 1


def test_a_new_deadline_gets_its_own_reminder(world: Any) -> None:
    case = accepted_case(world)
    remind_due_cases(at(2026, 3, 16, 9))
    with time_machine.travel(at(2026, 3, 16, 10), tick=False):
        case = case_resolve(actor=world.user("grid_a"), case=case, measures="已清运")
        case = case_rate(actor=world.user("villager"), case=case, rating=Case.Rating.UNSATISFIED)
    remind_due_cases(case.resolve_by - dt.timedelta(hours=2))
    assert Reminder.objects.filter(ref=case.number).count() == 2
    assert Notification.objects.filter(kind="case_reminded").count() == 2


def test_resolved_cases_are_not_reminded(world: Any) -> None:
    case = accepted_case(world)
    with time_machine.travel(at(2026, 3, 3), tick=False):
        case_resolve(actor=world.user("grid_a"), case=case, measures="已清运")
    remind_due_cases(at(2026, 3, 16, 9))
    assert Reminder.objects.count() == 0 and not told("case_reminded")


# --- the inbox ---------------------------------------------------------------------------------


def test_inbox_lists_own_notices_newest_first_and_unread_bold(world: Any, login: Any) -> None:
    villager, grid = world.user("villager"), world.user("grid_a")
    notify(recipients=[villager], kind="t", title="第一条", link="/me/cases/")
    notify(recipients=[villager], kind="t", title="第二条")
    notify(recipients=[grid], kind="t", title="别人的")
    page = login(villager).get(reverse("inbox")).content.decode()
    assert page.index("第二条") < page.index("第一条") and "别人的" not in page
    assert 'class="card notice big unread"' in page  # villager layout, unread marked


def test_inbox_marks_only_own_notices(world: Any, login: Any) -> None:
    villager, grid = world.user("villager"), world.user("grid_a")
    [mine] = notify(recipients=[villager], kind="t", title="我的", link="/me/cases/")
    [theirs] = notify(recipients=[grid], kind="t", title="别人的")
    client = login(villager)
    assert client.post(reverse("inbox-read", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("inbox-read", args=[mine.pk])).status_code == 405  # POST only
    response = client.post(reverse("inbox-read", args=[mine.pk]), {"go": "1"})
    assert response.status_code == 302 and response["Location"] == "/me/cases/"
    client.post(reverse("inbox-read-all"))
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None


def test_unread_badge_in_the_nav(world: Any, login: Any) -> None:
    grid = world.user("grid_a")
    notify(recipients=[grid], kind="t", title="一")
    notify(recipients=[grid], kind="t", title="二")
    page = login(grid).get(reverse("case-list")).content.decode()
    assert reverse("inbox") in page and 'class="badge"' in page and ">2</span>" in page
    login(grid).post(reverse("inbox-read-all"))
    assert 'class="badge"' not in login(grid).get(reverse("inbox")).content.decode()


def test_inbox_pages_and_its_queries_do_not_grow(world: Any, login: Any, django_assert_max_num_queries: Any) -> None:
    villager = world.user("villager")
    for i in range(45):
        notify(recipients=[villager], kind="t", title=f"通知{i}", link="/me/cases/")
    client = login(villager)
    client.get(reverse("inbox"))  # warm the session
    with django_assert_max_num_queries(12):
        first = client.get(reverse("inbox"))
    with django_assert_max_num_queries(12):
        second = client.get(reverse("inbox") + "?page=2")
    assert "通知44" in first.content.decode() and "通知14" not in first.content.decode()
    assert "通知14" in second.content.decode()


def test_submission_queries_do_not_grow_with_recipients(world: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with_addresses(world)
    submit(world)  # the first case of the year also creates the number counter
    with CaptureQueriesContext(connection) as few:
        submit(world)
    for i in range(6):
        user = make_user(f"extra{i}", region=world.grid_a, role=Role.GRID_WORKER)
        user.email = f"extra{i}@example.org"
        user.save(update_fields=["email"])
    with CaptureQueriesContext(connection) as many:
        case = submit(world)
    assert len(told("case_submitted", case.number)) == 8
    assert len(many.captured_queries) == len(few.captured_queries)
    assert Delivery.objects.filter(notification__ref=case.number).count() == 8


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_reminder_sweeps_at_once_remind_exactly_once(world: Any) -> None:
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail("this test runs in the PostgreSQL pass")
    case = accepted_case(world)
    now = at(2026, 3, 16, 9)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            remind_due_cases(now)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Reminder.objects.filter(ref=case.number).count() == 1
    assert case.events.filter(kind=CaseEvent.Kind.REMINDED).count() == 1
    assert Notification.objects.filter(kind="case_reminded").count() == 1


def test_inbox_back_link_takes_only_an_ascii_page_number(world: Any, login: Any) -> None:
    villager = world.user("villager")
    [note] = notify(recipients=[villager], kind="t", title="一")
    client = login(villager)
    url = reverse("inbox-read", args=[note.pk])
    assert client.post(url, {"page": "2"})["Location"] == "/inbox/?page=2"
    # "²" passes str.isdigit, a page of 2000 characters is no page, "go" without a link stays.
    for page in ("²", "1" * 2000, "1\x00"):
        response = client.post(url, {"page": page, "go": "1"})
        assert response.status_code == 302 and response["Location"] == "/inbox/"
    response = client.post(reverse("inbox-read-all"), {"page": "٣"})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
