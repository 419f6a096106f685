"""Every write of policy matching: the catalogue (policies and their versions), the work-away
register, applications and their decisions, and the audit row of each 明白卡 printed.

Rules enter only as validated data (`eligibility.validate_conditions`, also on the model's
save). An application is recorded only for a household (or member) that qualifies under the
version in force on the day it applied, once per version: a repeated tap returns the first
record (`hemei.core.idempotency`), and a second worker's concurrent record of the same
application is refused by the table's unique constraint, never stored twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.idempotency import remembered
from hemei.core.models import AuditEntry
from hemei.core.parsing import clean_text, county_of
from hemei.core.scope import require, require_actor, scope_for
from hemei.core.workflow import check, record, transition
from hemei.policies.access import POLICY_ROLES, RECORD_ROLES
from hemei.policies.eligibility import validate_conditions
from hemei.policies.models import Application, Policy, PolicyVersion, WorkAway, WorkPlace
from hemei.regions.models import Household, Level, Region, Resident


def _require_over(actor: Any, region: Region, roles: frozenset[str]) -> None:
    """Outside the actor's read scope: 404 (ids reveal nothing); inside without the role: 403."""
    require_actor(actor)
    if not scope_for(actor).covers_path(region.path):
        raise Http404
    require(actor, roles, region)


# --- the catalogue --------------------------------------------------------------------------


@transaction.atomic
def policy_create(*, actor: Any, region: Region, code: str, name: str, issuer: str, summary: str, benefit: str,
                  how_to_apply: str) -> Policy:
    """A policy for the households of a county or township, by its staff or the county's."""
    require_actor(actor)
    _require_over(actor, region, POLICY_ROLES)
    if region.level not in (Level.COUNTY, Level.TOWNSHIP):
        raise ValidationError(_("A policy is issued for a county or a township."), code="level")
    county = county_of(region)
    code = clean_text(code, _("Code"), 40, required=True).lower()
    if not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in code):
        raise ValidationError(_("A policy code is letters, digits, - and _."), code="code")
    if Policy.objects.filter(county=county, code=code).exists():
        raise ValidationError(_("The county already has a policy with code %(code)s.") % {"code": code},
                              code="duplicate")
    policy = Policy.objects.create(
        county=county, region=region, code=code, name=clean_text(name, _("Name"), 100, required=True),
        issuer=clean_text(issuer, _("Issued by"), 100, required=True),
        summary=clean_text(summary, _("Summary"), 2000, required=True),
        benefit=clean_text(benefit, _("What it gives"), 1000, required=True),
        how_to_apply=clean_text(how_to_apply, _("How to apply"), 2000, required=True),
    )
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=policy,
                 changes={"code": [None, code], "name": [None, policy.name], "region": [None, region.code]})
    return policy


@transaction.atomic
def version_create(*, actor: Any, policy: Policy, label: str, effective_from: dt.date, conditions: Any,
                   effective_to: dt.date | None = None, benefit: str = "", basis: str = "") -> PolicyVersion:
    """A new version of a policy's rules from `effective_from`.

    1. Township or county staff over the policy's area only.
    2. The conditions are checked against the whitelist (every problem named); the dates must
       be in order and the start not taken by another version of the policy.
    3. A version still open-ended when a later one starts ends the day before it (the earlier
       year's rules stay as they were for the days they were in force).
    """
    require_actor(actor)
    _require_over(actor, policy.region, POLICY_ROLES)
    cleaned = validate_conditions(conditions)
    label = clean_text(label, _("Version"), 40, required=True)
    if effective_to is not None and effective_to < effective_from:
        raise ValidationError(_("A version ends on or after the day it comes into force."), code="dates")
    versions = PolicyVersion.objects.select_for_update().filter(policy=policy)
    if versions.filter(effective_from=effective_from).exists():
        raise ValidationError(_("Another version of this policy comes into force on that day."), code="duplicate")
    ended = []
    for earlier in versions.filter(effective_from__lt=effective_from, effective_to__isnull=True):
        earlier.effective_to = effective_from - dt.timedelta(days=1)
        earlier.save(update_fields=["effective_to"])
        ended.append(earlier.pk)
    version = PolicyVersion.objects.create(
        policy=policy, label=label, effective_from=effective_from, effective_to=effective_to, conditions=cleaned,
        benefit=clean_text(benefit, _("Amount or standard"), 200), basis=clean_text(basis, _("Policy document"), 200))
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=version,
                 changes={"policy": [None, policy.pk], "effective_from": [None, effective_from],
                          "conditions": [None, cleaned], "ended_versions": ended})
    return version


# --- the work-away register -----------------------------------------------------------------


@transaction.atomic
def work_away_record(*, actor: Any, resident: Resident, place: str, since: dt.date | None = None,
                     province: str = "", now: dt.datetime | None = None) -> WorkAway | None:
    """Where a resident works away from home, or that they no longer do (`place` "none").
    The grid's staff or the cadres above; the resident must be living in the household."""
    require_actor(actor)
    _require_over(actor, resident.region, RECORD_ROLES)
    if resident.status != Resident.Status.LIVING:
        raise ValidationError(_("Only a member living in the household can be registered."), code="status")
    existing = WorkAway.objects.select_for_update().filter(resident=resident).first()
    if place == "none":
        if existing is not None:
            old = existing.place
            existing.delete()
            audit_record(actor=actor, action=AuditEntry.Action.DELETE, obj=resident,
                         changes={"work_away": [old, None]}, note="work away ended")
        return None
    if place not in WorkPlace.values:
        raise ValidationError(_("Choose where the member works."), code="place")
    today = timezone.localdate(now)
    if since is None or since > today:
        raise ValidationError(_("Give the month the work began (not in the future)."), code="since")
    province = clean_text(province, _("Province or city of work"), 30)
    values = {"place": place, "since": since, "province": province, "updated_at": now or timezone.now()}
    if existing is None:
        row = WorkAway.objects.create(resident=resident, county_id=resident.county_id, region_id=resident.region_id,
                                      **values)
        audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=row,
                     changes={"place": [None, place], "since": [None, since]})
        return row
    before = {"place": existing.place, "since": existing.since, "province": existing.province}
    for name, value in values.items():
        setattr(existing, name, value)
    existing.region_id = resident.region_id
    existing.save()
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=existing,
                 changes={k: [before[k], values[k]] for k in before if before[k] != values[k]})
    return existing


# --- applications ---------------------------------------------------------------------------


def _qualification(household: Household, policy: Policy, member: Resident | None,
                   on: dt.date) -> PolicyVersion:
    """The version in force on `on` under which the household (or member) qualifies; else a
    ValidationError that names the conditions not met."""
    from hemei.policies.selectors import matches_for

    household = Household.objects.select_related("region").get(pk=household.pk)
    if not household.region.path.startswith(policy.region.path) or not policy.active:
        raise ValidationError(_("This policy does not apply to the household's area."), code="area")
    found = [m for m in matches_for([household], on)[household.pk] if m.policy.pk == policy.pk]
    if not found:
        raise ValidationError(_("The policy has no rules in force on %(day)s.") % {"day": on}, code="version")
    match = found[0]
    failed = [c.text for c in match.outcome.checks if not c.passed]
    if match.outcome.per_member:
        if member is None:
            raise ValidationError(_("This policy is for each person: choose the member who applies."),
                                  code="member")
        mine = [m for m in match.outcome.members if m.member.id == member.pk]
        if not mine:
            raise ValidationError(_("The member does not live in this household."), code="member")
        failed += [c.text for c in mine[0].checks if not c.passed]
    elif member is not None:
        raise ValidationError(_("This policy is for the whole household, not for one member."), code="member")
    if failed:
        raise ValidationError(_("Under the register the household does not qualify: %(why)s")
                              % {"why": "；".join(failed)}, code="not_eligible")
    return match.version


@transaction.atomic
def application_record(*, actor: Any, household: Household, policy: Policy, idempotency_key: str,
                       member: Resident | None = None, applied_on: dt.date | None = None,
                       note: str = "") -> Application:
    """Record that a household (or one member, for a per-person policy) applied.

    1. The grid's staff, the village committee or the levels above, over the household's grid
       (another grid's household: 404).
    2. The day it applied is today or earlier; the household must qualify under the version in
       force that day (`_qualification`: every failed condition is named).
    3. Under the idempotency key a repeat returns the first record; another application under
       the same version is refused (also when two workers record it at once: the unique
       constraint, caught in a savepoint, leaves nothing half-written).
    4. The record, its first event (applied) and the audit row.
    """
    require_actor(actor)
    _require_over(actor, household.region, RECORD_ROLES)
    today = timezone.localdate()
    applied_on = applied_on or today
    if applied_on > today:
        raise ValidationError(_("The day of application cannot be in the future."), code="date")
    if member is not None and member.household_id != household.pk:
        raise ValidationError(_("The member does not live in this household."), code="member")
    note = clean_text(note, _("Note"), 300)
    version = _qualification(household, policy, member, applied_on)
    live = Application.objects.filter(household=household, version=version, member=member) \
        .exclude(status=Application.Status.REFUSED)

    def write() -> list[Application]:
        if live.exists():
            raise ValidationError(_("This application is already recorded."), code="duplicate")
        try:
            with transaction.atomic():
                app = Application.objects.create(
                    county_id=household.county_id, region_id=household.region_id, household=household, member=member,
                    policy=policy, version=version, applied_on=applied_on, note=note,
                    created_by=actor if getattr(actor, "pk", None) else None)
        except IntegrityError:
            raise ValidationError(_("This application is already recorded."), code="duplicate") from None
        record(app, kind="applied", actor=actor, to_state=Application.Status.APPLIED, note=note,
               data={"version": version.pk, "member": member.pk if member else None})
        audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=app,
                     changes={"policy": [None, policy.code], "version": [None, version.label],
                              "member": [None, member.pk if member else None], "applied_on": [None, applied_on]})
        return [app]

    [app], _replayed = remembered(actor=actor, key=f"policy:{idempotency_key}", operation="policies.application",
                                  payload={"household": household.pk, "policy": policy.pk,
                                           "member": member.pk if member else None, "applied_on": applied_on,
                                           "note": note},
                                  model=Application, write=write)
    return app


@transaction.atomic
def application_grant(*, actor: Any, application: Application, reason: str = "") -> Application:
    """The application is granted (the benefit was given or approved)."""
    require_actor(actor)
    check(application, Application.Status.GRANTED, actor=actor, move="grant")
    return transition(application, Application.Status.GRANTED, actor=actor, move="grant",
                      decided_at=timezone.now(), reason=clean_text(reason, _("Reason"), 300))


@transaction.atomic
def application_refuse(*, actor: Any, application: Application, reason: str) -> Application:
    """The application is refused; the reason is required (it is told to the household)."""
    require_actor(actor)
    check(application, Application.Status.REFUSED, actor=actor, move="refuse")
    reason = clean_text(reason, _("Reason"), 300, required=True)
    return transition(application, Application.Status.REFUSED, actor=actor, move="refuse", note=reason,
                      decided_at=timezone.now(), reason=reason)


def card_printed(*, actor: Any, household: Household, policies: list[str], request: HttpRequest | None = None,
                 on: dt.date | None = None) -> None:
    """The audit row of a 明白卡 printed for a household (which policies it listed)."""
    require_actor(actor)
    if not scope_for(actor).covers_path(household.region.path):
        raise Http404
    if not scope_for(actor).is_staff_scope:
        raise PermissionDenied
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, obj=household, request=request,
                 changes={"what": "policy_card", "policies": policies, "on": on or timezone.localdate()})
