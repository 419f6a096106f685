"""Cases you can act on (issue 15): the call-back reveal, the next action, the candidates,
what the reporter sees."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from hemei.cases.models import Case, Category
from hemei.cases.services import case_accept, case_reporter_phone_reveal, case_resolve, case_submit
from hemei.cases.views_act import next_action, responsible_candidates
from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM

pytestmark = pytest.mark.usefixtures("migration_seeds")
S = Case.Status


def submit(world, *, reporter=None, title="路灯不亮") -> Case:
    reporter = reporter or world.head_a
    return case_submit(actor=world.user("villager"), region=reporter.region,
                       category=Category.objects.get(county__isnull=True, name="公共设施：路灯"),
                       title=title, description="村口路灯三天不亮", source=Case.Source.VILLAGER, reporter=reporter,
                       household=reporter.household)


@pytest.mark.parametrize(("status", "can_write", "decide", "expected"), [
    (S.SUBMITTED, True, False, "accept"),
    (S.ACCEPTED, True, False, "resolve"),
    (S.IN_PROGRESS, True, False, "resolve"),
    (S.RESOLVED, True, False, "wait_rating"),
    (S.CLOSED, True, False, ""),
    (S.REJECTED, True, False, ""),
    (S.MERGED, True, False, ""),
    (S.SUBMITTED, False, False, ""),  # a reader (the county's view) gets no action
    (S.IN_PROGRESS, True, True, "decide_extension"),
    (S.IN_PROGRESS, False, True, "decide_extension"),  # the township decides without a write post below
])
def test_next_action_per_status(status, can_write, decide, expected):
    assert next_action(Case(status=status), can_write=can_write, can_decide_extension=decide) == expected


def test_the_page_shows_one_main_action_and_folds_the_rest(world, client):
    case = submit(world)
    client.force_login(world.user("grid_a"))
    body = client.get(reverse("case-detail", args=[case.number])).content.decode()
    assert 'data-next="accept"' in body and body.count('class="btn-main"') == 1
    case_accept(actor=world.user("grid_a"), case=case, responsible=world.user("grid_a"))
    body = client.get(reverse("case-detail", args=[case.number])).content.decode()
    assert 'data-next="resolve"' in body and body.count('class="btn-main"') == 1
    assert body.index('<details class="more">') > body.index('class="btn-main"')
    # The household and the reporter's masked phone, never the full one before a reveal.
    assert reverse("household-detail", args=[world.house_a.pk]) in body
    assert "138****1111" in body and "13800001111" not in body


def test_call_back_reveals_the_phone_with_an_audit_row(world, client):
    case = submit(world)
    client.force_login(world.user("grid_a"))  # a handler, without the general reveal permission
    response = client.post(reverse("case-reporter-phone", args=[case.number]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'href="tel:13800001111"' in response.content.decode()
    row = AuditEntry.objects.get(action=AuditEntry.Action.REVEAL, actor_name="grid1")
    assert row.object_type == "regions.resident" and row.object_id == str(world.head_a.pk)
    assert row.changes == {"field": "phone", "case": case.number}


def test_call_back_is_refused_outside_the_handlers_and_changes_nothing(world, client):
    case = submit(world)
    client.force_login(world.user("grid_b"))  # another grid: the case does not exist for them
    assert client.post(reverse("case-reporter-phone", args=[case.number])).status_code == 404
    client.force_login(world.user("township"))  # reads it (write over the township, so a handler)
    assert client.get(reverse("case-reporter-phone", args=[case.number])).status_code == 405
    with pytest.raises(PermissionDenied):
        case_reporter_phone_reveal(actor=None, case=case)
    with pytest.raises(PermissionDenied):
        case_reporter_phone_reveal(actor=world.user("villager"), case=case)
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL).exists()


def test_candidates_carry_their_posts_and_load(world):
    busy = submit(world, title="第一件")
    case_accept(actor=SYSTEM, case=busy, responsible=world.user("grid_a"))
    candidates = {c.user.username: c for c in responsible_candidates(world.grid_a)}
    assert {"grid1", "secretary", "township", "county"} <= set(candidates)
    assert "grid2" not in candidates  # another grid's worker
    assert candidates["grid1"].load == 1 and candidates["secretary"].load == 0
    assert "第一网格" in candidates["grid1"].posts and "网格员" in candidates["grid1"].posts
    assert "在办 1 件" in candidates["grid1"].label
    # The grid's and village's people first, the township's and county's after (they carry no
    # cases and sorted first by load alone); within a distance the lightest load first.
    order = [c.user.username for c in responsible_candidates(world.grid_a)]
    assert order.index("grid1") < order.index("secretary") < order.index("township") < order.index("county")


def test_villager_sees_handler_post_deadline_and_labelled_photos(world, client):
    case = submit(world)
    client.force_login(world.user("villager"))
    body = client.get(reverse("my-case", args=[case.number])).content.decode()
    assert "尚未分派" in body and "受理期限" in body
    case_accept(actor=world.user("secretary"), case=case, responsible=world.user("secretary"))
    body = client.get(reverse("my-case", args=[case.number])).content.decode()
    assert "secretary" in body and "西邵村 村党支部书记" in body and "办结期限" in body
    case_resolve(actor=world.user("secretary"), case=case, measures="换了灯泡")
    body = client.get(reverse("my-case", args=[case.number])).content.decode()
    assert "换了灯泡" in body


def test_the_accept_form_offers_the_reader_as_responsible(world, client):
    """A newcomer pressing 受理 as the form stands takes the case on themself (the list started
    on "—", and the refusal named the unit, not the person)."""
    case = submit(world)
    client.force_login(world.user("grid_a"))
    page = client.get(reverse("case-detail", args=[case.number])).content.decode()
    me = world.user("grid_a").pk
    assert f'<option value="{me}" selected>' in page
    assert page.count(" selected>") == 1
