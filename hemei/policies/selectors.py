"""Reads of policy matching: the versions in force, the facts of many households in a fixed
number of queries, each household's matches, and the grid's "qualifies but has not applied"
list. Every read of households goes through the register's scoped querysets."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Protocol

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from hemei.policies.access import access_applications, access_policies
from hemei.policies.eligibility import (
    HouseholdFacts,
    MemberFacts,
    Outcome,
    age_on,
    evaluate,
    is_per_member,
    months_between,
    qualifies,
    qualifying_members,
)
from hemei.policies.models import Application, Policy, PolicyVersion, WorkAway
from hemei.regions.access import access_households
from hemei.regions.models import Household, Region, Resident

MAX_LIST: Final = 5000  # the most households one "not applied" list evaluates
# Households per IN list: a list's every household in one go (SQLite's variable limit is 32,766,
# PostgreSQL's 65,535), so the list's queries do not grow with the village.
CHUNK: Final = MAX_LIST


def today() -> dt.date:
    return timezone.localdate()


def versions_in_force(policies: Iterable[Policy], on: dt.date) -> dict[int, PolicyVersion]:
    """policy id → the version in force on `on` (latest start on or before it, not ended), in
    one query; a policy without one is absent."""
    ids = [p.pk for p in policies]
    rows = (PolicyVersion.objects.filter(policy_id__in=ids, effective_from__lte=on)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
            .order_by("policy_id", "-effective_from", "-pk"))
    found: dict[int, PolicyVersion] = {}
    for version in rows:
        found.setdefault(version.policy_id, version)
    return found


def version_in_force(policy: Policy, on: dt.date) -> PolicyVersion | None:
    return versions_in_force([policy], on).get(policy.pk)


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def _monitoring_state(step: str) -> str:
    from hemei.visits.models import OPEN_STEPS, Monitoring

    if step == Monitoring.Step.MONITORED:
        return "monitored"
    if step == Monitoring.Step.REMOVED:
        return "removed"
    return "in_procedure" if step in OPEN_STEPS else "none"


class _Facted(Protocol):
    """What `household_facts` reads of a household: a model instance or a list's row."""

    @property
    def pk(self) -> int: ...

    @property
    def lives_in_village(self) -> bool: ...


def household_facts(households: Sequence[_Facted], on: dt.date, *,
                    needs: Iterable[str] | None = None) -> dict[int, HouseholdFacts]:
    """The facts the rules read, for every household given, in seven queries per 5,000
    households whatever their number:

    1. household tags; 2. living members; 3. their tags; 4. their work away from home;
    5. the latest 防返贫 monitoring record of each household (its step and kind); 6. the
    latest visit that estimated the per-capita income; 7. the monitoring record's income where
    no visit has one.

    `needs`: the fields (`eligibility.FIELDS` names) the caller's conditions read; a query no
    such field reads is not made, and its facts stay at their defaults (not to be shown).
    """
    from hemei.visits.models import Monitoring, Visit

    wanted = None if needs is None else set(needs)

    def need(*names: str) -> bool:
        return wanted is None or any(n in wanted for n in names)

    out: dict[int, HouseholdFacts] = {}
    for ids in _chunks([h.pk for h in households]):
        tags: dict[int, set[str]] = defaultdict(set)
        if need("household.tags"):
            for hid, name in Household.tags.through.objects.filter(household_id__in=ids) \
                    .values_list("household_id", "tag__name"):
                tags[hid].add(name)
        living = Resident.objects.filter(household_id__in=ids, status=Resident.Status.LIVING)
        member_tags: dict[int, set[str]] = defaultdict(set)
        if need("member.tags"):
            for rid, name in Resident.tags.through.objects.filter(resident__in=living) \
                    .values_list("resident_id", "tag__name"):
                member_tags[rid].add(name)
        work: dict[int, tuple[str, dt.date | None]] = {}
        if need("member.work_place", "member.months_away"):
            work = {rid: (place, since) for rid, place, since in
                    WorkAway.objects.filter(resident__in=living).values_list("resident_id", "place", "since")}
        monitoring: dict[int, tuple[str, str, Decimal | None]] = {}
        if need("household.monitoring", "household.monitoring_kind", "household.income_per_capita"):
            for hid, step, kind, income in (Monitoring.objects.filter(household_id__in=ids)
                                            .order_by("household_id", "-created_at", "-pk")
                                            .values_list("household_id", "step", "kind", "income_per_capita")):
                monitoring.setdefault(hid, (step, kind, income))
        incomes: dict[int, Decimal] = {}
        if need("household.income_per_capita"):
            for hid, income in (Visit.objects.filter(household_id__in=ids, income_per_capita__isnull=False)
                                .order_by("household_id", "-visited_at", "-pk")
                                .values_list("household_id", "income_per_capita")):
                if income is not None:
                    incomes.setdefault(hid, income)
        members: dict[int, list[MemberFacts]] = defaultdict(list)
        if wanted is None or "household.size" in wanted or any(n.startswith("member.") for n in wanted):
            for rid, hid, name, birth, sex, relation, party in living.order_by("household_id", "birth_date", "pk") \
                    .values_list("pk", "household_id", "name", "birth_date", "sex", "relation", "is_party_member"):
                place, since = work.get(rid, ("none", None))
                members[hid].append(MemberFacts(
                    id=rid, name=name, age=age_on(birth, on), sex=sex, relation=relation,
                    tags=frozenset(member_tags.get(rid, ())), party_member=party, work_place=place,
                    months_away=months_between(since, on) if since is not None else None))
        chunk = set(ids)
        for h in households:
            if h.pk not in chunk:
                continue
            step, kind, monitored_income = monitoring.get(h.pk, ("", "", None))
            out[h.pk] = HouseholdFacts(
                id=h.pk, tags=frozenset(tags.get(h.pk, ())),
                monitoring=_monitoring_state(step) if step else "none",
                monitoring_kind=kind if step == Monitoring.Step.MONITORED and kind else "none",
                income_per_capita=incomes.get(h.pk, monitored_income),
                lives_in_village=h.lives_in_village, members=tuple(members.get(h.pk, ())))
    return out


def _reaches(policy: Policy, grid_path: str) -> bool:
    return grid_path.startswith(policy.region.path)


def catalogue(county_ids: Iterable[int] | QuerySet[Any]) -> list[Policy]:
    """The active policies of the counties (ids, or a query of them), with their areas (one query)."""
    ids = county_ids if isinstance(county_ids, QuerySet) else set(county_ids)
    return list(Policy.objects.filter(county_id__in=ids, active=True).select_related("region")
                .order_by("region__path", "code", "pk"))


def _years_before(on: dt.date, years: int) -> dt.date | None:
    """1 January of the year `years` before `on`'s, or None outside the calendar."""
    year = on.year - years
    return dt.date(year, 1, 1) if 1 <= year <= 9999 else None


def _age_bounds(op: str, value: Any, on: dt.date) -> Q | None:
    """Birth dates every member of that age on `on` has (by whole years, so a little wide):
    `age >= n` needs a birth year of at most on.year - n, `age <= n` one of at least
    on.year - n - 1."""
    number = Decimal(str(value))
    if op == "==" and number != number.to_integral_value():
        return None
    least: int | None = {">=": math.ceil(number), ">": math.floor(number) + 1, "==": int(number)}.get(op)
    most: int | None = {"<=": math.floor(number), "<": math.ceil(number) - 1, "==": int(number)}.get(op)
    q = Q()
    if least is not None and (bound := _years_before(on, least - 1)) is not None:
        q &= Q(birth_date__lt=bound)
    if most is not None and (bound := _years_before(on, most + 1)) is not None:
        q &= Q(birth_date__gte=bound)
    return q or None


def narrowing(conditions: Sequence[Mapping[str, Any]], on: dt.date) -> Q | None:
    """A filter on households that every household qualifying under `conditions` on `on`
    passes, or None when no condition can narrow: a necessary condition only, never the
    answer (`eligibility.evaluate` decides, over the facts). It takes the conditions the
    register holds as columns: a household tag it must have, where it lives, and for the
    member conditions one living member with every member tag it must have, the sex,
    relation and party membership asked, a birth date by year for the age, a place of work
    away from home. Everything else (a tag it must not have, monitoring, income, size, months
    away, "is not") does not narrow."""
    household: list[Q] = []
    tags = Household.tags.through.objects.filter(household=OuterRef("pk"))
    members = Resident.objects.filter(household=OuterRef("pk"), status=Resident.Status.LIVING)
    for c in conditions:
        name, op, value = c["field"], c["op"], c["value"]
        if name == "household.tags" and op == "has":
            household.append(Q(Exists(tags.filter(tag__name=value))))
        elif name == "household.lives_in_village":
            household.append(Q(lives_in_village=value))
        elif name == "member.tags" and op == "has":
            members = members.filter(tags__name=value)
        elif name in ("member.sex", "member.relation") and op in ("==", "in"):
            column = name.split(".", 1)[1]
            members = members.filter(**{column if op == "==" else f"{column}__in": value})
        elif name == "member.party_member":
            members = members.filter(is_party_member=value)
        elif name == "member.age" and op != "!=" and (bounds := _age_bounds(op, value, on)) is not None:
            members = members.filter(bounds)
        elif name == "member.work_place" and op in ("==", "in"):
            places = [value] if op == "==" else list(value)
            if "none" not in places:
                members = members.filter(work_away__place__in=places)
    if is_per_member(conditions):
        # A rule with member conditions needs one living member meeting them all.
        household.append(Q(Exists(members)))
    if not household:
        return None
    q = household[0]
    for more in household[1:]:
        q &= more
    return q


@dataclass
class Match:
    """A household against one policy's version in force."""

    policy: Policy
    version: PolicyVersion
    outcome: Outcome
    applications: list[Application] = field(default_factory=list)

    @property
    def qualifies(self) -> bool:
        return self.outcome.qualifies

    def pending_members(self) -> list[MemberFacts]:
        """Qualifying members without a live or decided application under this version."""
        return _unfiled(self.outcome.qualifying_members, {a.member_id for a in self.applications})

    @property
    def applied(self) -> bool:
        """Whether there is nothing left to apply for under this version."""
        return _nothing_left(self.outcome.per_member, self.outcome.qualifying_members,
                             {a.member_id for a in self.applications})


def _unfiled(qualifying: Sequence[MemberFacts], filed: set[int | None]) -> list[MemberFacts]:
    """The qualifying members with no application under the version (`filed`: the member ids
    that have one, None for the household's own)."""
    return [m for m in qualifying if m.id not in filed]


def _nothing_left(per_member: bool, qualifying: Sequence[MemberFacts], filed: set[int | None]) -> bool:
    """The one rule of "applied": the household's own application, or, for a per-person
    policy, one for every qualifying member (the household page's match and the list's)."""
    return not _unfiled(qualifying, filed) if per_member else None in filed


def _filed(households: Sequence[Household], versions: Iterable[PolicyVersion],
           applications: QuerySet[Application]) -> dict[tuple[int, int], list[Application]]:
    """(household id, version id) → its applications, in one query per 5,000 households."""
    filed: dict[tuple[int, int], list[Application]] = defaultdict(list)
    version_ids = [v.pk for v in versions]
    if not version_ids:
        return filed
    for chunk in _chunks([h.pk for h in households]):
        for app in applications.filter(household_id__in=chunk, version_id__in=version_ids):
            filed[(app.household_id, app.version_id)].append(app)
    return filed


def matches_for(households: Sequence[Household], on: dt.date, *,
                applications: QuerySet[Application] | None = None) -> dict[int, list[Match]]:
    """household id → its matches, for every active policy reaching it with a version in force
    on `on`. A fixed number of queries for any number of households: the catalogue, the
    versions, the facts (`household_facts`) and, when given, the applications under those
    versions. `households` need `region` loaded (select_related)."""
    if not households:
        return {}
    policies = catalogue(h.county_id for h in households)
    versions = versions_in_force(policies, on)
    policies = [p for p in policies if p.pk in versions]
    facts = household_facts(households, on)
    filed = _filed(households, versions.values(), applications) if applications is not None and policies else {}
    out: dict[int, list[Match]] = {}
    for h in households:
        rows = []
        for p in policies:
            if not _reaches(p, h.region.path):
                continue
            version = versions[p.pk]
            rows.append(Match(p, version, evaluate(version.conditions, facts[h.pk]),
                              filed.get((h.pk, version.pk), [])))
        out[h.pk] = rows
    return out


def household_matches(user: Any, household: Household, on: dt.date | None = None) -> list[Match]:
    """One household (already fetched in scope) against every policy reaching it, with the
    applications the user may read."""
    household = Household.objects.select_related("region").get(pk=household.pk)
    return matches_for([household], on or today(), applications=access_applications(user))[household.pk]


@dataclass
class Decided:
    """One household and policy on the "not applied" list, as `pending` decides it: what
    `explain` needs to show it, for the rows shown only."""

    household_id: int
    policy: Policy
    version: PolicyVersion
    facts: HouseholdFacts
    members: list[MemberFacts]


@dataclass
class Pending:
    """A row of the list as shown: the household (region and head) and the explained match."""

    household: Household
    match: Match
    members: list[MemberFacts]


@dataclass(frozen=True)
class _Listed:
    """A narrowed household as `household_facts` and `_reaches` read it (no model instance:
    the list decides over dozens of households and shows twenty)."""

    pk: int
    path: str
    lives_in_village: bool


def _filed_members(household_ids: Sequence[int],
                   version_ids: Sequence[int]) -> dict[tuple[int, int], set[int | None]]:
    """(household id, version id) → the members with an application under it (None: the
    household's own), in one query per 5,000 households. Every application counts: the list
    is of what nobody has filed yet, whoever filed it."""
    filed: dict[tuple[int, int], set[int | None]] = defaultdict(set)
    if not version_ids:
        return filed
    for chunk in _chunks(household_ids):
        for hid, vid, member in Application.objects.filter(household_id__in=chunk, version_id__in=version_ids) \
                .values_list("household_id", "version_id", "member_id"):
            filed[(hid, vid)].add(member)
    return filed


def pending(user: Any, *, region: Region | None = None, on: dt.date | None = None,
            policy: Policy | None = None) -> tuple[list[Decided], bool]:
    """(rows, truncated): households in the user's scope (inside `region` when given) that
    qualify for a policy in force and have no application under its version — for per-person
    policies, the qualifying members without one. A grid worker's scope is their own grid.
    The rows are decided, not explained: `explain` the ones shown.

    The same queries for a village of any size (up to MAX_LIST households that may qualify):
    the catalogue and versions; the households that pass some policy's `narrowing` filter
    (the database drops the ones no condition it can read lets through), as three columns;
    their facts; who has applied under each version. `qualifies` decides each household and
    policy, `qualifying_members` the per-person ones."""
    on = on or today()
    qs = access_households(user).filter(lives_in_village=True)
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path)
    policies = catalogue(qs.order_by().values("county_id"))
    versions = versions_in_force(policies, on)
    policies = [p for p in policies if p.pk in versions and (policy is None or p.pk == policy.pk)]
    if not policies:
        return [], False
    reach: Q | None = None
    for p in policies:
        narrow = narrowing(versions[p.pk].conditions, on)
        this = Q(region__path__startswith=p.region.path) & narrow if narrow is not None \
            else Q(region__path__startswith=p.region.path)
        reach = this if reach is None else reach | this
    households = [_Listed(*row) for row in qs.filter(reach).order_by("region__path", "number", "pk")
                  .values_list("pk", "region__path", "lives_in_village")[:MAX_LIST + 1]]
    truncated = len(households) > MAX_LIST
    households = households[:MAX_LIST]
    needs = {c["field"] for p in policies for c in versions[p.pk].conditions}
    facts = household_facts(households, on, needs=needs)
    filed = _filed_members([h.pk for h in households], [versions[p.pk].pk for p in policies])
    per_member = {p.pk: is_per_member(versions[p.pk].conditions) for p in policies}
    rows: list[Decided] = []
    for h in households:
        for p in policies:
            version = versions[p.pk]
            if not _reaches(p, h.path) or not qualifies(version.conditions, facts[h.pk]):
                continue
            who = filed.get((h.pk, version.pk), set())
            members = qualifying_members(version.conditions, facts[h.pk]) if per_member[p.pk] else []
            if not _nothing_left(per_member[p.pk], members, who):
                rows.append(Decided(h.pk, p, version, facts[h.pk], _unfiled(members, who)))
    return rows, truncated


def explain(rows: Sequence[Decided]) -> list[Pending]:
    """`rows` with their households (region and head) and their matches explained (every
    condition in words), in one query whatever their number: a page's rows, or an export's."""
    households = Household.objects.select_related("region", "head").in_bulk({r.household_id for r in rows})
    return [Pending(households[r.household_id], Match(r.policy, r.version, evaluate(r.version.conditions, r.facts)),
                    r.members) for r in rows]


def not_applied(user: Any, *, region: Region | None = None, on: dt.date | None = None,
                policy: Policy | None = None) -> tuple[list[Pending], bool]:
    """`pending`, every row explained (the export's and the tests' whole list)."""
    rows, truncated = pending(user, region=region, on=on, policy=policy)
    return explain(rows), truncated


def policy_list(user: Any) -> list[Policy]:
    return list(access_policies(user).select_related("region").order_by("region__path", "code", "pk")[:200])


def applications_of(user: Any, household: Household) -> QuerySet[Application]:
    return (access_applications(user).filter(household=household)
            .select_related("policy", "version", "member").order_by("-created_at", "-pk"))
