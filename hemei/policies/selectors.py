"""Reads of policy matching: the versions in force, the facts of many households in a fixed
number of queries, each household's matches, and the grid's "qualifies but has not applied"
list. Every read of households goes through the register's scoped querysets."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from django.db.models import Q, QuerySet
from django.utils import timezone

from hemei.policies.access import access_applications, access_policies
from hemei.policies.eligibility import HouseholdFacts, MemberFacts, Outcome, age_on, evaluate, months_between
from hemei.policies.models import Application, Policy, PolicyVersion, WorkAway
from hemei.regions.access import access_households
from hemei.regions.models import Household, Region, Resident

CHUNK: Final = 500  # households per IN list (SQLite's variable limit is far above, PostgreSQL has none)
MAX_LIST: Final = 5000  # the most households one "not applied" list evaluates


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


def household_facts(households: Sequence[Household], on: dt.date) -> dict[int, HouseholdFacts]:
    """The facts the rules read, for every household given, in seven queries per 500
    households whatever their number:

    1. household tags; 2. living members; 3. their tags; 4. their work away from home;
    5. the latest 防返贫 monitoring record of each household (its step and kind); 6. the
    latest visit that estimated the per-capita income; 7. the monitoring record's income where
    no visit has one.
    """
    from hemei.visits.models import Monitoring, Visit

    out: dict[int, HouseholdFacts] = {}
    for ids in _chunks([h.pk for h in households]):
        tags: dict[int, set[str]] = defaultdict(set)
        for hid, name in Household.tags.through.objects.filter(household_id__in=ids) \
                .values_list("household_id", "tag__name"):
            tags[hid].add(name)
        living = Resident.objects.filter(household_id__in=ids, status=Resident.Status.LIVING)
        member_tags: dict[int, set[str]] = defaultdict(set)
        for rid, name in Resident.tags.through.objects.filter(resident__in=living) \
                .values_list("resident_id", "tag__name"):
            member_tags[rid].add(name)
        work = {rid: (place, since) for rid, place, since in
                WorkAway.objects.filter(resident__in=living).values_list("resident_id", "place", "since")}
        monitoring: dict[int, tuple[str, str, Decimal | None]] = {}
        for hid, step, kind, income in (Monitoring.objects.filter(household_id__in=ids)
                                        .order_by("household_id", "-created_at", "-pk")
                                        .values_list("household_id", "step", "kind", "income_per_capita")):
            monitoring.setdefault(hid, (step, kind, income))
        incomes: dict[int, Decimal] = {}
        for hid, income in (Visit.objects.filter(household_id__in=ids, income_per_capita__isnull=False)
                            .order_by("household_id", "-visited_at", "-pk")
                            .values_list("household_id", "income_per_capita")):
            if income is not None:
                incomes.setdefault(hid, income)
        members: dict[int, list[MemberFacts]] = defaultdict(list)
        for rid, hid, name, birth, sex, relation, party in living.order_by("household_id", "birth_date", "pk") \
                .values_list("pk", "household_id", "name", "birth_date", "sex", "relation", "is_party_member"):
            place, since = work.get(rid, ("none", None))
            members[hid].append(MemberFacts(
                id=rid, name=name, age=age_on(birth, on), sex=sex, relation=relation,
                tags=frozenset(member_tags.get(rid, ())), party_member=party, work_place=place,
                months_away=months_between(since, on) if since is not None else None))
        for h in households:
            if h.pk not in ids:
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


def catalogue(county_ids: Iterable[int]) -> list[Policy]:
    """The active policies of the counties, with their areas (one query)."""
    return list(Policy.objects.filter(county_id__in=set(county_ids), active=True).select_related("region")
                .order_by("region__path", "code", "pk"))


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
        filed = {a.member_id for a in self.applications}
        return [m for m in self.outcome.qualifying_members if m.id not in filed]

    @property
    def applied(self) -> bool:
        """Whether there is nothing left to apply for under this version."""
        if not self.outcome.per_member:
            return any(a.member_id is None for a in self.applications)
        return not self.pending_members()


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
    filed: dict[tuple[int, int], list[Application]] = defaultdict(list)
    if applications is not None and policies:
        ids = [h.pk for h in households]
        for chunk in _chunks(ids):
            for app in applications.filter(household_id__in=chunk,
                                           version_id__in=[v.pk for v in versions.values()]):
                filed[(app.household_id, app.version_id)].append(app)
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
class Pending:
    household: Household
    match: Match
    members: list[MemberFacts]


def not_applied(user: Any, *, region: Region | None = None, on: dt.date | None = None,
                policy: Policy | None = None) -> tuple[list[Pending], bool]:
    """(rows, truncated): households in the user's scope (inside `region` when given) that
    qualify for a policy in force and have no application under its version — for per-person
    policies, the qualifying members without one. A grid worker's scope is their own grid."""
    on = on or today()
    qs = access_households(user).filter(lives_in_village=True)
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path)
    households = list(qs.select_related("region", "head").order_by("region__path", "number", "pk")[:MAX_LIST + 1])
    truncated = len(households) > MAX_LIST
    households = households[:MAX_LIST]
    matches = matches_for(households, on, applications=Application.objects.all())
    rows: list[Pending] = []
    for h in households:
        for m in matches[h.pk]:
            if policy is not None and m.policy.pk != policy.pk:
                continue
            if not m.qualifies or m.applied:
                continue
            rows.append(Pending(h, m, m.pending_members() if m.outcome.per_member else []))
    return rows, truncated


def policy_list(user: Any) -> list[Policy]:
    return list(access_policies(user).select_related("region").order_by("region__path", "code", "pk")[:200])


def applications_of(user: Any, household: Household) -> QuerySet[Application]:
    return (access_applications(user).filter(household=household)
            .select_related("policy", "version", "member").order_by("-created_at", "-pk"))
