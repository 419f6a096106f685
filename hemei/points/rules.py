"""Writes of rule sets, versions and items, and their adoption by a village meeting.

A version takes effect only through `rule_version_adopt`, which needs a decided agenda item
of a 村民会议 or 村民代表会议 of the same village, about this version, that passed (quorum and
more than half of those present for, `hemei.meetings.rules`). Deciding such an item in the
meetings pages adopts the version at once (`DECISION_HOOKS["points.ruleversion"]`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.scope import require_actor, user_of
from hemei.core.workflow import transition
from hemei.meetings.models import AgendaItem, Meeting
from hemei.meetings.rules import more_than_half
from hemei.points.access import COMMITTEE_ROLES, may
from hemei.points.models import RuleItem, RuleSet, RuleVersion
from hemei.regions.models import Level, Region

SUBJECT_TYPE = "points.ruleversion"
ADOPTING_KINDS = (Meeting.Kind.VILLAGERS, Meeting.Kind.REPRESENTATIVES)



def _require_committee(actor: Any, village: Region) -> None:
    if not may(actor, village, COMMITTEE_ROLES):
        raise ValidationError(_("Only the village committee may change the points rules."), code="scope")


@transaction.atomic
def rule_set_create(
    *,
    actor: Any,
    village: Region,
    name: str,
    publicity_days: int = 7,
    redemption_period: str = RuleSet.RedemptionPeriod.QUARTER,
    after_redemption: str = RuleSet.AfterRedemption.CARRY_OVER,
    min_balance_to_redeem: int = 0,
    exclude_absent: bool = True,
    at: dt.datetime | None = None,
) -> RuleSet:
    require_actor(actor)
    if village.level != Level.VILLAGE:
        raise ValidationError(_("A points rule set belongs to a village."))
    _require_committee(actor, village)
    if RuleSet.objects.filter(village=village).exists():
        raise ValidationError(_("This village already has a points rule set."), code="conflict")
    if not 1 <= int(publicity_days) <= 60:
        raise ValidationError(_("Publicity lasts between 1 and 60 days."))
    if (
        redemption_period not in RuleSet.RedemptionPeriod.values
        or after_redemption not in RuleSet.AfterRedemption.values
    ):
        raise ValidationError(_("Unknown cycle setting."))
    name = (name or "").strip()[:100] or _("Points rules")
    county = village.county_ancestor()
    if county is None:
        raise ValidationError(_("Region %(r)s is not inside a county.") % {"r": village})
    rule_set = RuleSet.objects.create(
        county=county,
        village=village,
        name=name,
        publicity_days=publicity_days,
        redemption_period=redemption_period,
        after_redemption=after_redemption,
        min_balance_to_redeem=min_balance_to_redeem,
        exclude_absent=exclude_absent,
        created_at=at or timezone.now(),
    )
    audit_record(
        actor=actor,
        action="create",
        obj=rule_set,
        changes={"village": [None, village.code], "publicity_days": [None, publicity_days]},
    )
    return rule_set


@transaction.atomic
def rule_version_create(
    *,
    actor: Any,
    rule_set: RuleSet,
    title: str = "",
    copy_from: RuleVersion | None = None,
    at: dt.datetime | None = None,
) -> RuleVersion:
    """A new draft version, optionally starting as a copy of an earlier version's items."""
    require_actor(actor)
    _require_committee(actor, rule_set.village)
    RuleSet.objects.select_for_update().filter(pk=rule_set.pk).first()
    number = (rule_set.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    version = RuleVersion.objects.create(
        rule_set=rule_set,
        number=number,
        title=(title or "").strip()[:100],
        created_by=user_of(actor),
        created_at=at or timezone.now(),
    )
    if copy_from is not None:
        if copy_from.rule_set_id != rule_set.pk:
            raise ValidationError(_("Copy only from a version of the same rule set."))
        RuleItem.objects.bulk_create(
            [
                RuleItem(
                    version=version,
                    code=i.code,
                    kind=i.kind,
                    description=i.description,
                    points=i.points,
                    evidence=i.evidence,
                    cap_per_period=i.cap_per_period,
                    proposer=i.proposer,
                )
                for i in copy_from.items.all()
            ]
        )
    audit_record(actor=actor, action="create", obj=version, changes={"number": [None, number]})
    return version


@transaction.atomic
def rule_item_add(
    *,
    actor: Any,
    version: RuleVersion,
    code: str,
    kind: str,
    description: str,
    points: int,
    evidence: str = "",
    cap_per_period: int | None = None,
    proposer: str = RuleItem.Proposer.GRID,
) -> RuleItem:
    require_actor(actor)
    _require_committee(actor, version.rule_set.village)
    from hemei.points.rules_edit import _draft  # rules_edit imports this module

    _draft(version)
    if kind not in RuleItem.Kind.values or proposer not in RuleItem.Proposer.values:
        raise ValidationError(_("Unknown kind of rule item."))
    points = int(points)
    if (kind == RuleItem.Kind.DEDUCTION) != (points < 0) or points == 0:
        raise ValidationError(_("Deductions have negative points, other items positive points."))
    if cap_per_period is not None and cap_per_period < abs(points):
        raise ValidationError(_("The cap per period is smaller than the item's points."))
    code = (code or "").strip()[:10]
    description = (description or "").strip()
    if not code or not description:
        raise ValidationError(_("A rule item needs a code and a description."))
    if version.items.filter(code=code).exists():
        raise ValidationError(_("Code %(c)s is already used in this version.") % {"c": code})
    item = RuleItem.objects.create(
        version=version,
        code=code,
        kind=kind,
        description=description[:200],
        points=points,
        evidence=(evidence or "").strip()[:200],
        cap_per_period=cap_per_period,
        proposer=proposer,
    )
    audit_record(
        actor=actor,
        action="create",
        obj=item,
        county_code=version.county_code,
        changes={"code": [None, code], "points": [None, points]},
    )
    return item


@transaction.atomic
def rule_version_adopt(
    *, actor: Any, version: RuleVersion, item: AgendaItem, at: dt.datetime | None = None
) -> RuleVersion:
    """Adopt a draft version on the strength of a passed agenda item.

    1. The item must be about this version, decided and passed, at a 村民会议 or 村民代表会议
       of the rule set's village; its votes for must be more than half of the attendees
       (re-checked here: the adoption must not depend on another app's bookkeeping alone).
    2. The draft becomes adopted (conditional update on state=draft), the previous adopted
       version superseded; both in this transaction, so there is always one current version.
    """
    require_actor(actor)
    item = AgendaItem.objects.select_related("meeting__region").get(pk=item.pk)
    meeting = item.meeting
    village = version.rule_set.village
    if item.subject_type != SUBJECT_TYPE or item.subject_id != str(version.pk):
        raise ValidationError(_("This agenda item is not about this rule version."))
    if meeting.region_id != village.pk:
        raise ValidationError(_("The meeting is not of this village."))
    if meeting.kind not in ADOPTING_KINDS:
        raise ValidationError(_("Points rules are adopted by a villagers' assembly or representatives meeting."))
    if item.outcome != AgendaItem.Outcome.PASSED or meeting.attendees is None or item.votes_for is None:
        raise ValidationError(_("The agenda item was not passed."))
    if not more_than_half(item.votes_for, meeting.attendees):
        raise ValidationError(_("Adoption needs more than half of the attendees voting for."))
    RuleSet.objects.select_for_update().filter(pk=version.rule_set_id).first()
    version = RuleVersion.objects.get(pk=version.pk)
    if version.state != RuleVersion.State.DRAFT:
        raise ValidationError(_("Only a draft version can be adopted."), code="conflict")
    if not version.items.exists():
        raise ValidationError(_("A version without items cannot be adopted."))
    previous = list(RuleVersion.objects.filter(rule_set_id=version.rule_set_id, state=RuleVersion.State.ADOPTED))
    for old in previous:  # first: at most one adopted version per rule set (a constraint)
        transition(old, RuleVersion.State.SUPERSEDED, actor=actor, superseded_by=version,
                   note=f"v{version.number}", changes={"state": [old.state, RuleVersion.State.SUPERSEDED]})
    return transition(
        version,
        RuleVersion.State.ADOPTED,
        actor=actor,
        adopted_by=meeting,
        adopted_item=item,
        # The meeting's day, not the day the votes were typed in: deeds from the meeting on
        # are scored under this version (entry_propose refuses deeds older than adopted_on).
        adopted_on=timezone.localdate(meeting.held_at),
        attendees=meeting.attendees,
        votes_for=item.votes_for,
        votes_against=item.votes_against,
        votes_abstain=item.votes_abstain,
        data={"meeting": meeting.pk, "item": item.pk},
        changes={
            "state": [RuleVersion.State.DRAFT, RuleVersion.State.ADOPTED],
            "meeting": [None, meeting.pk],
            "votes": [None, [item.votes_for, item.votes_against, item.votes_abstain]],
            "superseded": [None, [v.number for v in previous]],
        },
        audit_note="adopted",
    )


def _adopt_from_meeting(*, actor: Any, item: AgendaItem, at: dt.datetime) -> None:
    """DECISION_HOOKS entry: a passed item about a draft version adopts it; a failed one
    leaves the draft as it is (it can be tabled again)."""
    if item.outcome != AgendaItem.Outcome.PASSED or item.meeting.kind not in ADOPTING_KINDS:
        return  # a failed vote, or a meeting that may discuss but not adopt rules
    version = RuleVersion.objects.filter(pk=item.subject_id, state=RuleVersion.State.DRAFT).first()
    if version is not None:
        rule_version_adopt(actor=actor, version=version, item=item, at=at)


def register_meeting_hook() -> None:
    from hemei.meetings.services import DECISION_HOOKS

    DECISION_HOOKS[SUBJECT_TYPE] = _adopt_from_meeting
