"""Policy matching (政策明白卡, issue 17 item 7): rules held as data and validated against a
whitelist, the evaluator (every condition with the household's value, boundaries, the version
in force by date), applications through the workflow, the grid's "qualifies but has not
applied" list, the card PDF (masked), the API and the Excel export, each scoped."""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from hemei.core.models import AuditEntry
from hemei.core.scope import SYSTEM
from hemei.policies import selectors, services
from hemei.policies.eligibility import (
    HouseholdFacts,
    MemberFacts,
    age_on,
    describe,
    evaluate,
    months_between,
    validate_conditions,
)
from hemei.policies.models import Application, ApplicationEvent, Policy, PolicyVersion, WorkAway
from hemei.regions import services as regions
from hemei.regions.models import Household, Resident, Tag
from hemei.visits.models import Monitoring
from tests.conftest import World, new_id

TODAY = timezone.localdate()
LOAN = [{"field": "household.tags", "op": "has", "value": "监测户"}]
ELDER = [{"field": "member.age", "op": ">=", "value": 80}]
TRANSPORT = [{"field": "household.tags", "op": "has", "value": "脱贫户"},
             {"field": "member.work_place", "op": "==", "value": "out_of_province"}]


def _policy(world: World, code: str, conditions: list[dict[str, Any]], *, start: dt.date = dt.date(2025, 1, 1),
            name: str = "") -> Policy:
    policy = services.policy_create(actor=SYSTEM, region=world.county, code=code, name=name or code,
                                    issuer="晋源区人社局", summary="政策说明", benefit="补贴",
                                    how_to_apply="到村委会申请")
    services.version_create(actor=SYSTEM, policy=policy, label=f"{start.year}年版", effective_from=start,
                            conditions=conditions)
    return policy


def _tag(household: Household, name: str) -> None:
    tag, _ = Tag.objects.get_or_create(name=name)
    household.tags.add(tag)


def _member(household: Household, name: str, birth: dt.date, *, phone: str = "") -> Resident:
    return regions.resident_create(actor=SYSTEM, household=household, name=name, id_number=new_id(birth),
                                   relation="parent", phone=phone)


def _facts(**kw: Any) -> HouseholdFacts:
    return HouseholdFacts(id=1, **kw)


def _m(pk: int, age: int, **kw: Any) -> MemberFacts:
    return MemberFacts(id=pk, name=f"成员{pk}", age=age, sex="M", relation="head", **kw)


# --- the evaluator (pure) ---------------------------------------------------------------------


def test_age_on_counts_whole_years_to_the_day() -> None:
    assert age_on(dt.date(1946, 3, 1), dt.date(2026, 3, 1)) == 80
    assert age_on(dt.date(1946, 3, 1), dt.date(2026, 2, 28)) == 79
    assert months_between(dt.date(2026, 1, 15), dt.date(2026, 7, 15)) == 6
    assert months_between(dt.date(2026, 1, 15), dt.date(2026, 7, 14)) == 5
    assert months_between(dt.date(2026, 8, 1), dt.date(2026, 7, 1)) == 0


def test_a_member_of_exactly_80_qualifies_and_79_does_not() -> None:
    rules = validate_conditions(ELDER)
    assert evaluate(rules, _facts(members=(_m(1, 80),))).qualifies
    outcome = evaluate(rules, _facts(members=(_m(1, 79), _m(2, 45))))
    assert not outcome.qualifies and outcome.per_member
    assert [c.actual for o in outcome.members for c in o.checks] == ["79", "45"]
    assert not any(c.passed for o in outcome.members for c in o.checks)


def test_the_member_conditions_must_hold_for_one_and_the_same_member() -> None:
    rules = validate_conditions([*TRANSPORT, {"field": "member.age", "op": ">=", "value": 16}])
    # One member works in another province but is 15; another is 40 but works in the county.
    split = _facts(tags=frozenset({"脱贫户"}), members=(_m(1, 15, work_place="out_of_province"),
                                                       _m(2, 40, work_place="in_county")))
    assert not evaluate(rules, split).qualifies
    ok = _facts(tags=frozenset({"脱贫户"}), members=(_m(1, 15), _m(2, 40, work_place="out_of_province")))
    outcome = evaluate(rules, ok)
    assert outcome.qualifies and [m.id for m in outcome.qualifying_members] == [2]
    # The household condition fails: no member counts, whoever works where.
    assert not evaluate(rules, _facts(members=(_m(2, 40, work_place="out_of_province"),))).qualifying_members


def test_every_operator_and_a_missing_value() -> None:
    income = validate_conditions([{"field": "household.income_per_capita", "op": "<", "value": 8000}])
    assert evaluate(income, _facts(income_per_capita=Decimal("7999.99"))).qualifies
    assert not evaluate(income, _facts(income_per_capita=Decimal("8000"))).qualifies
    unknown = evaluate(income, _facts())
    with translation.override("en"):  # the words are made when read, in the reader's language
        assert not unknown.qualifies and unknown.checks[0].actual == "not recorded"
    not_tagged = validate_conditions([{"field": "household.tags", "op": "not_has", "value": "低保户"}])
    assert evaluate(not_tagged, _facts(tags=frozenset({"脱贫户"}))).qualifies
    assert not evaluate(not_tagged, _facts(tags=frozenset({"低保户"}))).qualifies
    kinds = validate_conditions([{"field": "household.monitoring", "op": "in", "value": ["monitored", "removed"]}])
    assert evaluate(kinds, _facts(monitoring="removed")).qualifies
    assert not evaluate(kinds, _facts(monitoring="in_procedure")).qualifies
    size = validate_conditions([{"field": "household.size", "op": ">=", "value": 2},
                                {"field": "household.lives_in_village", "op": "==", "value": True}])
    assert evaluate(size, _facts(members=(_m(1, 30), _m(2, 30)))).qualifies
    assert not evaluate(size, _facts(members=(_m(1, 30), _m(2, 30)), lives_in_village=False)).qualifies


def test_each_check_is_explained_in_chinese() -> None:
    rules = validate_conditions(ELDER)
    with translation.override("zh-hans"):
        outcome = evaluate(rules, _facts(members=(_m(1, 82),)))
        text = outcome.members[0].checks[0].text
    assert "年龄" in text and "82" in text and "80" in text and "不低于" in text


def test_a_yes_no_rule_is_said_once() -> None:
    """Walk of issue 17: the card read 在村居住：是（条件：是 是）; a yes/no rule names its value alone."""
    rules = validate_conditions([{"field": "household.lives_in_village", "op": "==", "value": True}])
    with translation.override("zh-hans"):
        assert evaluate(rules, _facts()).checks[0].text == "在村居住：是（条件：是）"
        assert evaluate(rules, _facts(lives_in_village=False)).checks[0].text == "在村居住：否（条件：是）"
        assert describe(rules) == ["在村居住 是"]
        assert evaluate(validate_conditions(ELDER), _facts(members=(_m(1, 82),))).members[0].checks[0].text \
            == "年龄：82（条件：不低于 80）"  # other fields keep their operator


@pytest.mark.parametrize("bad", [
    [],
    "member.age >= 80",
    [{"field": "member.income", "op": ">=", "value": 1}],  # not on the whitelist
    [{"field": "member.age", "op": "has", "value": 80}],  # operator of another kind
    [{"field": "member.age", "op": ">=", "value": "eighty"}],
    [{"field": "member.age", "op": ">=", "value": True}],  # a boolean is not a number
    [{"field": "member.age", "op": ">=", "value": 80, "extra": 1}],
    [{"field": "member.age", "op": ">="}],
    [{"field": "household.lives_in_village", "op": "==", "value": "yes"}],
    [{"field": "member.work_place", "op": "==", "value": "abroad"}],
    [{"field": "member.work_place", "op": "in", "value": "out_of_province"}],
    [{"field": "household.tags", "op": "has", "value": ""}],
    [{"field": "member.age", "op": ">=", "value": 1}] * 21,
])
def test_invalid_rule_definitions_are_refused(bad: Any) -> None:
    with pytest.raises(ValidationError):
        validate_conditions(bad)


def test_every_problem_is_named_with_its_condition() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_conditions([{"field": "member.age", "op": ">=", "value": 80},
                             {"field": "nope", "op": "==", "value": 1},
                             {"field": "member.age", "op": "in", "value": 1}])
    assert len(exc.value.messages) == 2
    assert "2" in exc.value.messages[0] and "3" in exc.value.messages[1]


def test_a_bad_version_is_refused_on_save_and_by_the_service(world: World) -> None:
    policy = _policy(world, "gaoling", ELDER)
    audits = AuditEntry.objects.count()
    with pytest.raises(ValidationError):
        PolicyVersion(policy=policy, label="x", effective_from=dt.date(2027, 1, 1),
                      conditions=[{"field": "member.id_number", "op": "==", "value": "1"}]).save()
    with pytest.raises(ValidationError):
        services.version_create(actor=SYSTEM, policy=policy, label="x", effective_from=dt.date(2027, 1, 1),
                                conditions=[{"field": "member.age", "op": ">=", "value": "x"}])
    assert policy.versions.count() == 1 and AuditEntry.objects.count() == audits
    assert policy.versions.get().effective_to is None  # the earlier version was not ended either


def test_the_version_in_force_follows_the_date(world: World) -> None:
    policy = _policy(world, "gaoling", ELDER, start=dt.date(2025, 1, 1))
    new = services.version_create(actor=SYSTEM, policy=policy, label="2026年版", effective_from=dt.date(2026, 1, 1),
                                  conditions=[{"field": "member.age", "op": ">=", "value": 75}])
    old = policy.versions.get(label="2025年版")
    assert old.effective_to == dt.date(2025, 12, 31)  # ended the day before the new one
    assert selectors.version_in_force(policy, dt.date(2024, 12, 31)) is None
    assert selectors.version_in_force(policy, dt.date(2025, 12, 31)) == old
    assert selectors.version_in_force(policy, dt.date(2026, 1, 1)) == new
    # A 77-year-old qualifies under 2026's rules only.
    _member(world.house_b, "赵桂兰", dt.date(1948, 6, 1))
    on_old = selectors.household_matches(SYSTEM, world.house_b, dt.date(2025, 12, 31))
    on_new = selectors.household_matches(SYSTEM, world.house_b, dt.date(2026, 1, 1))
    assert [m.qualifies for m in on_old] == [False] and [m.qualifies for m in on_new] == [True]
    with pytest.raises(ValidationError):
        services.version_create(actor=SYSTEM, policy=policy, label="dup", effective_from=dt.date(2026, 1, 1),
                                conditions=ELDER)


def test_only_township_and_county_staff_keep_the_catalogue(world: World) -> None:
    with pytest.raises(PermissionDenied):  # the village's own committee does not issue policies
        services.policy_create(actor=world.user("secretary"), region=world.village, code="x", name="x",
                               issuer="x", summary="x", benefit="x", how_to_apply="x")
    with pytest.raises(Http404):  # a township's staff do not reach the county itself
        services.policy_create(actor=world.user("township"), region=world.county, code="x", name="x",
                               issuer="x", summary="x", benefit="x", how_to_apply="x")
    policy = services.policy_create(actor=world.user("township"), region=world.township, code="xd", name="小额信贷",
                                    issuer="姚村镇", summary="x", benefit="x", how_to_apply="x")
    with pytest.raises(ValidationError):
        services.policy_create(actor=world.user("county"), region=world.village, code="y", name="y",
                               issuer="y", summary="y", benefit="y", how_to_apply="y")
    assert Policy.objects.filter(pk=policy.pk).exists() and Policy.objects.count() == 1


# --- the register's facts ---------------------------------------------------------------------


def test_facts_come_from_the_register(world: World) -> None:
    from hemei.visits.models import Visit

    _tag(world.house_a, "脱贫户")
    Monitoring.objects.create(household=world.house_a, county=world.county, region=world.grid_a, source="visit",
                              step=Monitoring.Step.MONITORED, kind=Monitoring.Kind.EDGE,
                              income_per_capita=Decimal("6000"))
    Visit.objects.create(household=world.house_a, county=world.county, region=world.grid_a,
                         income_per_capita=Decimal("7200"))
    spouse = Resident.objects.get(household=world.house_a, relation="spouse")
    services.work_away_record(actor=world.user("grid_a"), resident=spouse, place="out_of_province",
                              province="江苏省", since=TODAY - dt.timedelta(days=200))
    facts = selectors.household_facts([world.house_a], TODAY)[world.house_a.pk]
    assert facts.tags == {"脱贫户"} and facts.monitoring == "monitored" and facts.monitoring_kind == "edge"
    assert facts.income_per_capita == Decimal("7200")  # the latest visit's estimate before the monitoring one
    assert facts.size == 2
    worker = next(m for m in facts.members if m.id == spouse.pk)
    assert worker.work_place == "out_of_province" and worker.months_away is not None and worker.months_away >= 6


def test_a_moved_out_member_is_not_counted(world: World) -> None:
    policy = _policy(world, "gaoling", ELDER)
    old = _member(world.house_b, "孙福贵", TODAY.replace(year=TODAY.year - 85))
    assert [m.qualifies for m in selectors.household_matches(SYSTEM, world.house_b) if m.policy == policy] == [True]
    Resident.objects.filter(pk=old.pk).update(status=Resident.Status.DECEASED)
    assert [m.qualifies for m in selectors.household_matches(SYSTEM, world.house_b)] == [False]


def test_batch_evaluation_takes_the_same_queries_for_3_or_15_households(world: World) -> None:
    _policy(world, "gaoling", ELDER)
    _policy(world, "xd", LOAN)
    _policy(world, "jt", TRANSPORT)

    def households(n: int) -> list[Household]:
        rows = []
        for i in range(n):
            h = regions.household_create(actor=SYSTEM, grid=world.grid_b, number=f"9{n:02d}{i:02d}")
            _member(h, f"成员{i}", dt.date(1940 + i, 1, 1))
            _tag(h, "监测户")
            rows.append(Household.objects.select_related("region").get(pk=h.pk))
        return rows

    few, many = households(3), households(15)
    counts = []
    for group in (few, many):
        with CaptureQueriesContext(connection) as ctx:
            result = selectors.matches_for(group, TODAY, applications=Application.objects.all())
        counts.append(len(ctx.captured_queries))
        assert all(len(result[h.pk]) == 3 for h in group)
    assert counts[0] == counts[1] <= 10


# --- applications -----------------------------------------------------------------------------


def test_a_grid_worker_records_an_application_and_the_committee_grants_it(world: World) -> None:
    loan = _policy(world, "xd", LOAN)
    _tag(world.house_a, "监测户")
    app = services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=loan,
                                      idempotency_key="k1")
    assert app.status == "applied" and app.version.label == "2025年版" and app.region == world.grid_a
    assert ApplicationEvent.objects.filter(application=app, kind="applied").count() == 1
    assert AuditEntry.objects.filter(object_type="policies.application", object_id=str(app.pk)).count() == 1
    with pytest.raises(PermissionDenied):  # a grid worker records, the committee decides
        services.application_grant(actor=world.user("grid_a"), application=app)
    services.application_grant(actor=world.user("secretary"), application=app, reason="已发放")
    app.refresh_from_db()
    assert app.status == "granted" and app.decided_at is not None
    with pytest.raises(ValidationError):  # granted is final
        services.application_refuse(actor=world.user("secretary"), application=app, reason="x")
    assert list(app.events.values_list("kind", flat=True)) == ["applied", "grant"]


def test_refusal_needs_a_reason_and_a_refused_application_can_be_filed_again(world: World) -> None:
    loan = _policy(world, "xd", LOAN)
    _tag(world.house_a, "监测户")
    app = services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=loan,
                                      idempotency_key="k1")
    with pytest.raises(ValidationError):
        services.application_refuse(actor=world.user("township"), application=app, reason="  ")
    app.refresh_from_db()
    assert app.status == "applied"
    services.application_refuse(actor=world.user("township"), application=app, reason="材料不全")
    app.refresh_from_db()
    assert app.status == "refused" and app.reason == "材料不全"
    again = services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=loan,
                                        idempotency_key="k2")
    assert again.pk != app.pk and again.status == "applied"


def test_an_application_is_recorded_once(world: World) -> None:
    loan = _policy(world, "xd", LOAN)
    _tag(world.house_a, "监测户")
    first = services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=loan,
                                        idempotency_key="same")
    replay = services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=loan,
                                         idempotency_key="same")
    assert replay.pk == first.pk
    with pytest.raises(ValidationError) as exc:
        services.application_record(actor=world.user("secretary"), household=world.house_a, policy=loan,
                                    idempotency_key="other")
    assert exc.value.code == "duplicate"
    assert Application.objects.count() == 1


def test_a_household_that_does_not_qualify_is_told_why_and_nothing_is_written(world: World) -> None:
    loan = _policy(world, "xd", LOAN)
    with pytest.raises(ValidationError) as exc:
        services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=loan,
                                    idempotency_key="k")
    assert exc.value.code == "not_eligible" and any("监测户" in m for m in exc.value.messages)
    with pytest.raises(ValidationError):  # the future
        services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=loan,
                                    idempotency_key="k", applied_on=TODAY + dt.timedelta(days=1))
    with pytest.raises(ValidationError):  # before any version was in force
        _tag(world.house_a, "监测户")
        services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=loan,
                                    idempotency_key="k", applied_on=dt.date(2024, 6, 1))
    assert Application.objects.count() == 0 and ApplicationEvent.objects.count() == 0


def test_a_per_person_policy_is_applied_for_by_a_qualifying_member(world: World) -> None:
    elder = _policy(world, "gaoling", ELDER)
    old = _member(world.house_a, "王满仓", TODAY.replace(year=TODAY.year - 81) - dt.timedelta(days=3))
    with pytest.raises(ValidationError) as exc:
        services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=elder,
                                    idempotency_key="k")
    assert exc.value.code == "member"
    with pytest.raises(ValidationError):  # the head is not 80
        services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=elder,
                                    member=world.head_a, idempotency_key="k")
    with pytest.raises(ValidationError):  # not a member of this household
        services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=elder,
                                    member=world.head_b, idempotency_key="k")
    app = services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=elder,
                                      member=old, idempotency_key="k")
    assert app.member == old


def test_a_grid_worker_cannot_record_for_another_grid(world: World) -> None:
    loan = _policy(world, "xd", LOAN)
    _tag(world.house_b, "监测户")
    with pytest.raises(Http404):
        services.application_record(actor=world.user("grid_a"), household=world.house_b, policy=loan,
                                    idempotency_key="k")
    with pytest.raises(PermissionDenied):  # the shop keeper reads the village but records nothing
        services.application_record(actor=world.user("shop"), household=world.house_b, policy=loan,
                                    idempotency_key="k")
    with pytest.raises(PermissionDenied):
        services.application_record(actor=None, household=world.house_b, policy=loan, idempotency_key="k")
    assert Application.objects.count() == 0


def test_work_away_is_recorded_changed_and_ended(world: World) -> None:
    spouse = Resident.objects.get(household=world.house_a, relation="spouse")
    grid = world.user("grid_a")
    with pytest.raises(ValidationError):
        services.work_away_record(actor=grid, resident=spouse, place="out_of_province",
                                  since=TODAY + dt.timedelta(days=3))
    with pytest.raises(ValidationError):
        services.work_away_record(actor=grid, resident=spouse, place="moon", since=TODAY)
    with pytest.raises(Http404):
        services.work_away_record(actor=world.user("grid_b"), resident=spouse, place="in_county", since=TODAY)
    assert not WorkAway.objects.exists()
    services.work_away_record(actor=grid, resident=spouse, place="in_province", since=dt.date(2026, 1, 5))
    services.work_away_record(actor=grid, resident=spouse, place="out_of_province", since=dt.date(2026, 2, 1),
                              province="浙江省")
    row = WorkAway.objects.get()
    assert row.place == "out_of_province" and row.province == "浙江省"
    services.work_away_record(actor=grid, resident=spouse, place="none")
    assert not WorkAway.objects.exists()


# --- the "qualifies but has not applied" list -------------------------------------------------


def test_the_not_applied_list_is_the_grid_workers_own_grid(world: World) -> None:
    loan = _policy(world, "xd", LOAN)
    for h in (world.house_a, world.house_b, world.house_c):
        _tag(h, "监测户")
    mine, _ = selectors.not_applied(world.user("grid_a"))
    assert [(r.household, r.match.policy) for r in mine] == [(world.house_a, loan)]
    theirs, _ = selectors.not_applied(world.user("grid_b"))
    assert [r.household for r in theirs] == [world.house_b]
    village, _ = selectors.not_applied(world.user("secretary"))
    assert {r.household for r in village} == {world.house_a, world.house_b}
    services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=loan,
                                idempotency_key="k")
    assert selectors.not_applied(world.user("grid_a"))[0] == []


def test_a_per_person_policy_lists_each_member_not_yet_applied(world: World) -> None:
    elder = _policy(world, "gaoling", ELDER)
    first = _member(world.house_a, "王满仓", dt.date(1940, 1, 1))
    second = _member(world.house_a, "李翠花", dt.date(1942, 1, 1))
    rows, _ = selectors.not_applied(world.user("grid_a"))
    assert [{m.id for m in r.members} for r in rows] == [{first.pk, second.pk}]
    services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=elder, member=first,
                                idempotency_key="k")
    rows, _ = selectors.not_applied(world.user("grid_a"))
    assert [[m.id for m in r.members] for r in rows] == [[second.pk]]


def test_the_not_applied_page_records_an_application_from_its_button(world: World, client: Any, login: Any) -> None:
    loan = _policy(world, "xd", LOAN, name="脱贫人口小额信贷")
    _tag(world.house_a, "监测户")
    _tag(world.house_b, "监测户")
    login(world.user("grid_a"))
    page = client.get(reverse("policy-not-applied"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "脱贫人口小额信贷" in text and world.house_a.number in text and "西邵村二街" not in text
    response = client.post(reverse("policy-apply", args=[world.house_a.pk]),
                           {"policy": loan.pk, "key": "page-1", "next": reverse("policy-not-applied")})
    assert response.status_code == 302 and response["Location"] == reverse("policy-not-applied")
    assert Application.objects.filter(household=world.house_a, policy=loan).count() == 1
    # Another grid's household: 404, nothing written.
    assert client.post(reverse("policy-apply", args=[world.house_b.pk]),
                       {"policy": loan.pk, "key": "page-2"}).status_code == 404
    assert Application.objects.count() == 1


def test_a_per_person_card_records_each_members_application_from_its_own_button(
        world: World, client: Any, login: Any) -> None:
    """One form per card, a button per member (`name=member`): the card's one key is the
    member's key too, so each button records its own application and a repeat of one records
    nothing more."""
    elder = _policy(world, "gaoling", ELDER)
    first = _member(world.house_a, "王满仓", dt.date(1940, 1, 1))
    second = _member(world.house_a, "李翠花", dt.date(1942, 1, 1))
    login(world.user("grid_a"))
    text = client.get(reverse("policy-not-applied")).content.decode()
    url = reverse("policy-apply", args=[world.house_a.pk])
    card = re.search(f'<form method="post" action="{url}">(.*?)</form>', text, re.S)
    assert card is not None
    assert {int(v) for v in re.findall(r'name="member" value="(\d+)"', card.group(1))} == {first.pk, second.pk}
    key = re.search(r'name="key" value="([^"]+)"', card.group(1))
    assert key is not None
    for member in (first, second, first):  # the last: a double tap on the first button
        client.post(url, {"policy": elder.pk, "member": member.pk, "key": key.group(1)})
    assert sorted(Application.objects.filter(policy=elder).values_list("member_id", flat=True)) \
        == sorted([first.pk, second.pk])
    after = client.get(reverse("policy-not-applied")).content.decode()
    assert 'name="member"' not in after and "section class=\"card" not in after  # nothing left to apply for


def test_the_not_applied_page_costs_the_same_for_more_households(world: World, client: Any, login: Any) -> None:
    _policy(world, "xd", LOAN)
    _policy(world, "gaoling", ELDER)
    login(world.user("secretary"))

    def cost() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("policy-not-applied")).status_code == 200
        return len(ctx.captured_queries)

    _tag(world.house_a, "监测户")
    before = cost()
    for i in range(8):
        h = regions.household_create(actor=SYSTEM, grid=world.grid_b, number=f"8{i:02d}")
        _member(h, f"老人{i}", dt.date(1935, 1, 1))
        _tag(h, "监测户")
    assert cost() == before



def _bulk_households(world: World, n: int, *, tag: str, birth: dt.date) -> list[Household]:
    """`n` households of grid_b, each with one living member born within 300 days from `birth`
    and the tag, in
    a few bulk inserts (as an import or the demo writes them): enough to pass the 500 that
    one IN list held before."""
    made = Household.objects.bulk_create(
        Household(county=world.county, region=world.grid_b, village=world.village, number=f"7{i:04d}")
        for i in range(n))
    Resident.objects.bulk_create(
        Resident(county=world.county, region=world.grid_b, household=h, name=f"老人{i}", name_initials="lr",
                 id_number=(number := new_id(day := birth + dt.timedelta(days=i % 300))), id_tail=number[-4:],
                 sex="M", birth_date=day, relation="head")
        for i, h in enumerate(made))
    label, _ = Tag.objects.get_or_create(name=tag)
    Household.tags.through.objects.bulk_create(
        Household.tags.through(household_id=h.pk, tag_id=label.pk) for h in made)
    return made


def test_the_not_applied_list_takes_the_same_queries_for_2_or_522_households(world: World) -> None:
    """The list's queries follow the policies, not the village: 520 more households that all
    qualify (past one IN list of the old 500) cost no query more, and every one is listed."""
    _policy(world, "xd", LOAN)
    _policy(world, "gaoling", ELDER)
    _policy(world, "jt", TRANSPORT)
    _tag(world.house_a, "监测户")
    secretary = world.user("secretary")
    selectors.not_applied(secretary)  # the user's posts are read once and kept on the user

    def listed() -> tuple[int, list[selectors.Pending]]:
        with CaptureQueriesContext(connection) as ctx:
            rows, truncated = selectors.not_applied(secretary)
        assert not truncated
        return len(ctx.captured_queries), rows

    before, rows = listed()
    assert [(r.household.pk, r.match.policy.code) for r in rows] == [(world.house_a.pk, "xd")]
    made = _bulk_households(world, 520, tag="监测户", birth=dt.date(1940, 1, 1))
    after, rows = listed()
    assert after == before <= 12
    pending = {(r.household.pk, r.match.policy.code) for r in rows}
    assert pending == {(world.house_a.pk, "xd")} | {(h.pk, code) for h in made for code in ("xd", "gaoling")}


def test_the_database_narrowing_never_drops_a_household_that_qualifies(world: World) -> None:
    """`narrowing` only passes a filter the evaluator's answer implies: the not-applied list
    (narrowed in SQL, then evaluated) equals the evaluation of every household of the village
    (`matches_for`), for rules over every field the narrowing reads and some it does not."""
    on = TODAY
    rules = {
        "tag": LOAN,
        "not-tag": [{"field": "household.tags", "op": "not_has", "value": "监测户"},
                    {"field": "member.relation", "op": "in", "value": ["head", "spouse"]}],
        "elder": ELDER,
        "exact-age": [{"field": "member.age", "op": "==", "value": on.year - 1950 - 1},
                      {"field": "member.sex", "op": "==", "value": "M"}],
        "young": [{"field": "member.age", "op": "<", "value": 30}, {"field": "member.party_member", "op": "==",
                                                                     "value": False}],
        "transport": TRANSPORT,
        "away-long": [{"field": "member.work_place", "op": "in", "value": ["in_province", "out_of_province"]},
                      {"field": "member.months_away", "op": ">=", "value": 6}],
        "home": [{"field": "member.work_place", "op": "==", "value": "none"},
                 {"field": "household.lives_in_village", "op": "==", "value": True}],
        "party-tag": [{"field": "member.party_member", "op": "==", "value": True},
                      {"field": "member.tags", "op": "has", "value": "残疾人"}],
        "small": [{"field": "household.size", "op": "<=", "value": 1}],
    }
    for code, conditions in rules.items():
        _policy(world, code, conditions)
    _tag(world.house_a, "监测户")
    _tag(world.house_b, "脱贫户")
    births = [dt.date(1940, 3, 1), dt.date(1950, 1, 1), dt.date(1950, 12, 31), dt.date(on.year - 29, 12, 31),
              dt.date(on.year - 30, on.month, on.day), dt.date(1980, 6, 15)]
    for i, birth in enumerate(births):
        h = world.house_a if i % 2 else world.house_b
        member = _member(h, f"成员{i}", birth)
        if i in (2, 5):
            services.work_away_record(actor=SYSTEM, resident=member, place="out_of_province", since=dt.date(2025, 1, 1))
    disabled, _ = Tag.objects.get_or_create(name="残疾人")
    world.head_a.tags.add(disabled)
    village = list(Household.objects.filter(village=world.village).select_related("region"))
    everything = selectors.matches_for(village, on, applications=Application.objects.all())
    expected = {(h.pk, m.policy.code, tuple(x.id for x in m.pending_members()))
                for h in village for m in everything[h.pk] if m.qualifies and not m.applied}
    rows, _ = selectors.not_applied(SYSTEM, region=world.village, on=on)
    assert {(r.household.pk, r.match.policy.code, tuple(x.id for x in r.members)) for r in rows} == expected
    assert {code for _h, code, _m in expected} >= {"tag", "elder", "exact-age", "transport", "home", "party-tag"}


def test_bad_input_on_the_pages_changes_nothing(world: World, client: Any, login: Any) -> None:
    loan = _policy(world, "xd", LOAN)
    _tag(world.house_a, "监测户")
    login(world.user("grid_a"))
    for data in ({"policy": "abc", "key": "k"}, {"policy": loan.pk}, {"policy": 99999999999999999999, "key": "k"},
                 {"policy": loan.pk, "key": "k", "applied_on": "2026-13-01"}):
        response = client.post(reverse("policy-apply", args=[world.house_a.pk]), data, follow=True)
        assert response.status_code == 200 and response.context["messages"]
    assert client.post(reverse("policy-apply", args=[world.house_a.pk]),
                       {"policy": loan.pk, "key": "k", "member": world.head_b.pk}).status_code == 404
    response = client.post(reverse("policy-work", args=[world.house_a.pk]),
                           {"resident": world.head_a.pk, "place": "out_of_province",
                            "since": (TODAY + dt.timedelta(days=9)).isoformat()}, follow=True)
    assert [str(m) for m in response.context["messages"]]
    assert Application.objects.count() == 0 and not WorkAway.objects.exists()
    assert client.get(reverse("policy-not-applied") + "?policy=xyz&on=never").status_code == 200


def test_a_township_adds_a_version_from_the_page_and_bad_json_is_refused(world: World, client: Any,
                                                                       login: Any) -> None:
    loan = _policy(world, "xd", LOAN)
    login(world.user("county"))
    url = reverse("policy-detail", args=[loan.pk])
    base = {"label": "2027年版", "effective_from": "2027-01-01"}
    assert client.post(url, {**base, "conditions": "[{"}).status_code == 400
    assert client.post(url, {**base, "conditions": '[{"field": "member.id_number", "op": "==", "value": "1"}]'}) \
        .status_code == 400
    assert loan.versions.count() == 1
    assert client.post(url, {**base, "conditions": '[{"field": "household.tags", "op": "has", "value": "脱贫户"}]'}) \
        .status_code == 302
    assert loan.versions.count() == 2
    login(world.user("secretary"))
    assert client.post(url, {**base, "effective_from": "2028-01-01", "conditions": "[]"}).status_code == 403


# --- pages, card, scope -----------------------------------------------------------------------


def test_policy_pages_explain_the_rules(world: World, client: Any, login: Any) -> None:
    elder = _policy(world, "gaoling", ELDER, name="高龄津贴")
    _member(world.house_a, "王满仓", dt.date(1940, 1, 1))
    login(world.user("grid_a"))
    assert "高龄津贴" in client.get(reverse("policy-list")).content.decode()
    detail = client.get(reverse("policy-detail", args=[elder.pk])).content.decode()
    assert "80" in detail
    page = client.get(reverse("policy-household", args=[world.house_a.pk]))
    assert page.status_code == 200 and "王满仓" in page.content.decode()
    assert client.get(reverse("policy-household", args=[world.house_b.pk])).status_code == 404
    assert client.get(reverse("policy-card", args=[world.house_b.pk])).status_code == 404
    login(world.user("villager"))
    assert client.get(reverse("policy-not-applied")).status_code in (403, 404)
    assert client.get(reverse("policy-household", args=[world.house_a.pk])).status_code in (403, 404)


def test_the_card_masks_id_numbers_and_phones(world: World, rf: Any) -> None:
    from hemei.policies.views import card_html

    _policy(world, "gaoling", ELDER, name="高龄津贴")
    old = _member(world.house_a, "王满仓", dt.date(1940, 1, 1), phone="13912345678")
    request = rf.get("/")
    request.user = world.user("secretary")  # may reveal personal data: the card still masks
    html, codes = card_html(request, world.house_a, TODAY)
    assert codes == ["gaoling"] and "政策明白卡" in html and "高龄津贴" in html and "王满仓" in html
    for r in Resident.objects.filter(household=world.house_a):
        assert r.id_number not in html and (not r.phone or r.phone not in html)
    assert world.head_a.id_number[:6] + "********" + world.head_a.id_number[-4:] in html
    assert "138****1111" in html and old.phone not in html


def test_the_card_pdf_renders_and_is_audited(world: World, client: Any, login: Any) -> None:
    _policy(world, "gaoling", ELDER, name="高龄津贴")
    _member(world.house_a, "王满仓", dt.date(1940, 1, 1))
    login(world.user("grid_a"))
    response = client.get(reverse("policy-card", args=[world.house_a.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    entry = AuditEntry.objects.get(action="export", object_type="regions.household")
    assert entry.changes["what"] == "policy_card" and entry.changes["policies"] == ["gaoling"]
    assert entry.actor == world.user("grid_a")


def test_the_household_file_shows_the_policies_section(world: World, client: Any, login: Any) -> None:
    _policy(world, "gaoling", ELDER, name="高龄津贴")
    _member(world.house_a, "王满仓", dt.date(1940, 1, 1))
    login(world.user("grid_a"))
    page = client.get(reverse("household-detail", args=[world.house_a.pk])).content.decode()
    assert "高龄津贴" in page and reverse("policy-household", args=[world.house_a.pk]) in page


# --- API --------------------------------------------------------------------------------------


def test_api_policies_eligibility_and_applications(world: World, client: Any, login: Any) -> None:
    loan = _policy(world, "xd", LOAN)
    _tag(world.house_a, "监测户")
    login(world.user("grid_a"))
    listed = client.get("/api/v1/policies/").json()
    assert [p["code"] for p in listed["results"]] == ["xd"]
    answer = client.get(f"/api/v1/policies/households/{world.house_a.pk}/eligibility/").json()
    assert answer[0]["qualifies"] is True and answer[0]["checks"][0]["passed"] is True
    assert answer[0]["checks"][0]["name"] == "household.tags"
    assert client.get(f"/api/v1/policies/households/{world.house_b.pk}/eligibility/").status_code == 404
    assert client.get(f"/api/v1/policies/households/{world.house_a.pk}/eligibility/?on=soon").status_code == 400
    body = {"household": world.house_a.pk, "policy": loan.pk, "key": "api-1"}
    made = client.post("/api/v1/policy-applications/", body, content_type="application/json")
    assert made.status_code == 201 and made.json()["status"] == "applied"
    again = client.post("/api/v1/policy-applications/", body, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    other = client.post("/api/v1/policy-applications/", {**body, "note": "改了"}, content_type="application/json")
    assert other.status_code == 409
    assert client.post("/api/v1/policy-applications/", {"household": world.house_a.pk, "policy": loan.pk},
                       content_type="application/json").status_code == 400
    assert client.post("/api/v1/policy-applications/", {**body, "household": world.house_b.pk, "key": "api-2"},
                       content_type="application/json").status_code == 404
    assert client.post(f"/api/v1/policy-applications/{made.json()['id']}/grant/", {},
                       content_type="application/json").status_code == 403
    login(world.user("secretary"))
    granted = client.post(f"/api/v1/policy-applications/{made.json()['id']}/grant/", {"reason": "已放贷"},
                          content_type="application/json")
    assert granted.status_code == 200 and granted.json()["status"] == "granted"
    login(world.user("grid_b"))
    assert client.get(f"/api/v1/policy-applications/{made.json()['id']}/").status_code == 404
    assert client.get("/api/v1/policy-applications/").json()["results"] == []


# --- export -----------------------------------------------------------------------------------


def test_export_of_the_not_applied_list_is_scoped_masked_and_audited(world: World, client: Any, login: Any) -> None:
    _policy(world, "xd", LOAN, name="脱贫人口小额信贷")
    _tag(world.house_a, "监测户")
    _tag(world.house_b, "监测户")
    Household.objects.filter(pk=world.house_a.pk).update(address="=HYPERLINK(\"http://x\")")
    login(world.user("grid_a"))
    response = client.get(reverse("policy-not-applied-export"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "网格" and len(rows) == 2
    assert rows[1][1] == world.house_a.number and rows[1][3] == "138****1111"
    assert not str(rows[1][4]).startswith("=")
    assert "监测户" in rows[1][8]
    entry = AuditEntry.objects.get(action="export", object_type="policies.application")
    assert entry.changes["rows"] == 1 and entry.changes["phones"] == "masked"


def test_the_not_applied_export_is_masked_unless_asked_for_even_for_a_revealer(
    world: World, client: Any, login: Any
) -> None:
    """The probes of 2026-12-03: the secretary (who may reveal) downloaded every phone in clear
    without asking. Masked by default for everyone; `reveal=1` in full for a holder of the
    permission only (403 otherwise); the audit row says which."""
    _policy(world, "xd", LOAN, name="脱贫人口小额信贷")
    _tag(world.house_a, "监测户")
    login(world.user("secretary"))
    masked = load_workbook(io.BytesIO(client.get(reverse("policy-not-applied-export")).content)).active
    assert list(masked.iter_rows(values_only=True))[1][3] == "138****1111"
    page = client.get(reverse("policy-not-applied"), {"region": world.house_a.region.code})
    assert "reveal=1" in page.content.decode()
    full = client.get(reverse("policy-not-applied-export"), {"reveal": "1"})
    assert list(load_workbook(io.BytesIO(full.content)).active.iter_rows(values_only=True))[1][3] == "13800001111"
    phones = list(AuditEntry.objects.filter(action="export", object_type="policies.application")
                  .order_by("pk").values_list("changes__phones", flat=True))
    assert phones == ["masked", "clear"]
    login(world.user("grid_a"))
    assert client.get(reverse("policy-not-applied-export"), {"reveal": "1"}).status_code == 403


# --- concurrency (PostgreSQL) -------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_recording_the_same_application_at_once_store_one(world: World) -> None:
    loan = _policy(world, "xd", LOAN)
    _tag(world.house_a, "监测户")
    barrier = threading.Barrier(6)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        try:
            barrier.wait()
            actor = world.user("grid_a") if n % 2 else world.user("secretary")
            services.application_record(actor=actor, household=world.house_a, policy=loan,
                                        idempotency_key=f"race-{n}")
            outcome = "recorded"
        except ValidationError as exc:
            outcome = f"refused {exc.code}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("recorded") == 1 and outcomes.count("refused duplicate") == 5, outcomes
    assert Application.objects.count() == 1 and ApplicationEvent.objects.count() == 1


# --- demo -------------------------------------------------------------------------------------


def test_the_demo_policies_are_matched_over_the_register(world: World) -> None:
    from hemei.policies.demo import demo_policies

    _tag(world.house_a, "监测户")
    _member(world.house_b, "郝玉梅", dt.date(1941, 5, 1))
    made = demo_policies()
    assert Policy.objects.filter(county=world.county).count() == 4
    assert PolicyVersion.objects.count() == 8
    assert set(PolicyVersion.objects.filter(effective_to=dt.date(2025, 12, 31)).values_list("label", flat=True)) \
        == {"2025年版"}
    assert made == Application.objects.count()
    pending = {(r.household.pk, r.match.policy.code) for r in selectors.not_applied(SYSTEM)[0]}
    filed = {(a.household_id, a.policy.code) for a in Application.objects.select_related("policy")}
    assert pending | filed >= {(world.house_a.pk, "xiaoe-xindai"), (world.house_b.pk, "gaoling-butie")}
    assert not pending & filed
    assert demo_policies() == 0  # built once


def test_over_several_villages_the_not_applied_page_asks_for_a_village_first(world: World, client: Any,
                                                                             login: Any) -> None:
    """A township or county list would weigh every household's facts (seconds at a county's
    size): such a user picks a village; the village's list is paged."""
    _policy(world, "xd", LOAN)
    _tag(world.house_a, "监测户")
    login(world.user("county"))
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("policy-not-applied"))
    assert page.status_code == 200 and page.context.get("choose")
    assert {v.code for v in page.context["choose"]} == {world.village.code, world.village2.code}
    assert "rows" not in page.context and len(ctx.captured_queries) <= 15
    assert f"?region={world.village.code}" in page.content.decode()
    listed = client.get(reverse("policy-not-applied") + f"?region={world.village.code}")
    assert [r.household.pk for r in listed.context["rows"]] == [world.house_a.pk]
    assert listed.context["page"].paginator.count == 1
    login(world.user("secretary"))  # one village: the list at once
    assert client.get(reverse("policy-not-applied")).context["rows"]


def test_a_villager_sees_their_own_policy_card_on_the_phone(world: World, client: Any, login: Any) -> None:
    """/me/policies/: the policies the villager's own household qualifies for, why, and the
    application's state; another household's policies never; staff have no such page."""
    loan = _policy(world, "xd", LOAN, name="脱贫人口小额信贷")
    _policy(world, "gaoling", ELDER)
    _tag(world.house_a, "监测户")
    _tag(world.house_b, "监测户")
    _member(world.house_b, "老寿星", dt.date(1930, 1, 1))
    login(world.user("villager"))  # head of house_a
    assert reverse("my-policies") in client.get(reverse("villager-home")).content.decode()
    page = client.get(reverse("my-policies"))
    text = page.content.decode()
    assert page.status_code == 200 and loan.name in text and "尚未申请" in text
    assert [m.policy.code for c in page.context["cards"] for m in c["qualified"]] == ["xd"]  # not house_b's 高龄
    assert "老寿星" not in text
    services.application_record(actor=world.user("grid_a"), household=world.house_a, policy=loan,
                                idempotency_key="k")
    assert "尚未申请" not in client.get(reverse("my-policies")).content.decode()
    login(world.user("grid_a"))
    assert client.get(reverse("my-policies")).status_code == 404
