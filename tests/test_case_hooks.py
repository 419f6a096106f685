"""Outgoing case webhooks (issue 11, item 12): a hotline's account hands a case over and a real
HTTP receiver on this machine gets its events, signed, in order, retried after a failure."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from hemei.cases import hooks
from hemei.cases.models import Case, CaseEvent, CaseHook, CaseHookAttempt, Category
from hemei.cases.services import case_accept, case_start, case_submit
from hemei.core import signing
from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.core.sweeps import sweep_all
from tests.conftest import new_id

pytestmark = pytest.mark.usefixtures("migration_seeds")
ID = new_id()


class Receiver:
    """A real HTTP server: records each request; answers the queued statuses, then 200."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append((dict(self.headers.items()), body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hemei"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def kinds(self) -> list[str]:
        return [json.loads(body)["kind"] for _h, body in self.got]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def handed_over(world, title: str = "12345转办：路灯不亮") -> Case:
    return case_submit(actor=world.user("county"), region=world.grid_a, category=Category.objects.filter(
        county__isnull=True).first(), title=title, description="市民来电，电话13800001111", source=Case.Source.API)


def test_events_arrive_signed_in_order_and_without_personal_data(world, receiver):
    hook, key = hooks.hook_create(actor=SYSTEM, owner=world.user("county"), url=receiver.url)
    case = handed_over(world)
    case_accept(actor=world.user("secretary"), case=case, responsible=world.user("grid_a"))
    case_start(actor=world.user("grid_a"), case=case, note=f"已联系来电人 13800001111，身份证 {ID}")
    # Someone else's case in the same county is not the hook's business.
    case_submit(actor=world.user("grid_a"), region=world.grid_a, category=case.category, title="巡查发现",
                description="井盖缺失", source=Case.Source.PATROL)
    assert hooks.deliver(timezone.now()) == []
    assert receiver.kinds() == ["submitted", "accepted", "started"]
    for headers, body in receiver.got:
        assert signing.verify(key, headers[signing.TIMESTAMP], headers[signing.SIGNATURE], body, window=300) == ""
        assert signing.verify("x" * 64, headers[signing.TIMESTAMP], headers[signing.SIGNATURE], body, window=300)
        assert headers["X-Hemei-Delivery"] == str(json.loads(body)["id"])
        text = body.decode()
        assert "13800001111" not in text and ID not in text and "市民来电" not in text
    sent = json.loads(receiver.got[2][1])
    assert sent["case"]["number"] == case.number and sent["to_status"] == "in_progress"
    assert sent["note"].startswith("已联系来电人 ") and "身份证" in sent["note"]
    hook.refresh_from_db()
    assert hook.cursor == CaseEvent.objects.filter(case=case).order_by("-pk").first().pk
    assert CaseHookAttempt.objects.filter(hook=hook, status=200).count() == 3
    hooks.deliver(timezone.now())  # nothing new: nothing sent twice
    assert len(receiver.got) == 3


def test_a_failed_delivery_holds_the_later_events_and_is_retried_with_backoff(world, receiver):
    hook, _key = hooks.hook_create(actor=SYSTEM, owner=world.user("county"), url=receiver.url)
    case = handed_over(world)
    case_accept(actor=world.user("secretary"), case=case, responsible=world.user("grid_a"))
    receiver.answers = [503]
    now = timezone.now()
    hooks.deliver(now)
    assert receiver.kinds() == ["submitted"]  # the failure stops the round: "accepted" waits
    hook.refresh_from_db()
    assert hook.failures == 1 and hook.retry_at == now + dt.timedelta(seconds=30)
    assert hook.cursor < case.events.first().pk
    hooks.deliver(now + dt.timedelta(seconds=10))  # still backing off
    assert len(receiver.got) == 1
    hooks.deliver(now + dt.timedelta(seconds=31))
    assert receiver.kinds() == ["submitted", "submitted", "accepted"]
    hook.refresh_from_db()
    assert hook.failures == 0 and hook.retry_at is None
    assert [a.status for a in CaseHookAttempt.objects.filter(hook=hook)] == [503, 200, 200]
    assert hooks.backoff(3) == dt.timedelta(minutes=2) and hooks.backoff(30) == dt.timedelta(hours=1)


def test_an_unreachable_receiver_is_an_attempt_with_the_error_and_the_sweep_goes_on(world, receiver, settings):
    settings.HEMEI_CASE_HOOK_TIMEOUT = 2
    url = receiver.url
    receiver.server.shutdown()
    receiver.server.server_close()
    hook, _key = hooks.hook_create(actor=SYSTEM, owner=world.user("county"), url=url)
    handed_over(world)
    sweep_all(timezone.now())  # the hook is one sweeper among the others: no exception escapes
    attempt = CaseHookAttempt.objects.get(hook=hook)
    assert attempt.status is None and attempt.error and not attempt.delivered


def test_only_operators_make_hooks_and_only_to_https_or_this_machine(world, receiver):
    owner = world.user("county")
    for actor in (None, AnonymousUser(), world.user("county")):
        with pytest.raises(PermissionDenied):
            hooks.hook_create(actor=actor, owner=owner, url=receiver.url)
    for url in ("http://hotline.example.org/in", "ftp://127.0.0.1/x", "javascript:alert(1)", ""):
        with pytest.raises(ValidationError):
            hooks.hook_create(actor=SYSTEM, owner=owner, url=url)
    assert not CaseHook.objects.exists()
    hook, _key = hooks.hook_create(actor=SYSTEM, owner=owner, url="https://hotline.example.org/in")
    audit = AuditEntry.objects.filter(action="create", object_type__icontains="casehook", object_id=str(hook.pk))
    assert audit.exists()


def test_a_hook_follows_from_its_creation_and_stops_when_disabled(world, receiver):
    old = handed_over(world, "建钩子之前的案件")
    hook, _key = hooks.hook_create(actor=SYSTEM, owner=world.user("county"), url=receiver.url)
    assert hook.cursor == old.events.get().pk
    hooks.hook_disable(actor=SYSTEM, hook=hook)
    handed_over(world)
    hooks.deliver(timezone.now())
    assert receiver.got == []


def test_the_command_adds_lists_and_delivers(world, receiver):
    out = StringIO()
    call_command("case_hooks", "add", "county", receiver.url, stdout=out)
    assert "signing key (shown once):" in out.getvalue()
    handed_over(world)
    out = StringIO()
    call_command("case_hooks", "deliver", stdout=out)
    assert out.getvalue().strip() == "delivered 1 events" and receiver.kinds() == ["submitted"]
    out = StringIO()
    call_command("case_hooks", "list", stdout=out)
    assert "county" in out.getvalue() and "last " in out.getvalue() and "200" in out.getvalue()


def test_the_sweep_loop_wakes_when_events_wait_or_a_back_off_ends(world, receiver):
    from hemei.cases.sweep import _next_delivery

    hook, _key = hooks.hook_create(actor=SYSTEM, owner=world.user("county"), url=receiver.url)
    assert _next_delivery() is None  # nothing waiting
    handed_over(world)
    before = timezone.now()
    assert before - dt.timedelta(seconds=5) <= _next_delivery() <= timezone.now()
    receiver.answers = [500]
    hooks.deliver(before)
    hook.refresh_from_db()
    assert _next_delivery() == hook.retry_at == before + dt.timedelta(seconds=30)
