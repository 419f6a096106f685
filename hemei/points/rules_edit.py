"""Editing the points rules on pages: a draft's items, tabling the draft at a village meeting,
and the rule set's cycle and publicity settings.

Adoption itself stays where it is (`hemei.points.rules.rule_version_adopt`, called by the
meetings app when the tabled agenda item passes). Only drafts change; adopted and superseded
versions are read-only history, because entries keep the version they were made under.

The cycle settings (publicity days, redemption period, carry-over or reset, minimum balance,
absent households, ranking) belong to the rule set, not to a version: the committee records
here what the village meeting decided, each change audited with its before and after.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.freshness import touch
from hemei.core.scope import require_actor
from hemei.meetings.models import AgendaItem, Meeting
from hemei.meetings.services import agenda_item_add
from hemei.points.models import RuleItem, RuleSet, RuleVersion
from hemei.points.rules import ADOPTING_KINDS, SUBJECT_TYPE, _require_committee


def _draft(item_or_version: RuleItem | RuleVersion) -> RuleVersion:
    """The version, if it is a draft that is not on a meeting's agenda. The draft row is
    locked, so an edit and a tabling of the same draft run one after the other."""
    version = item_or_version.version if isinstance(item_or_version, RuleItem) else item_or_version
    if not RuleVersion.objects.select_for_update().filter(pk=version.pk, state=RuleVersion.State.DRAFT).exists():
        raise ValidationError(_("Only a draft version can be changed; start a new version."), code="state")
    if is_tabled(version):
        # The meeting votes on the text it was given: no changes until it has decided.
        raise ValidationError(
            _("This draft is on the agenda of a meeting; it can be changed again if the meeting does not pass it."),
            code="tabled",
        )
    return version


def is_tabled(version: RuleVersion) -> bool:
    """On the agenda of a meeting that has not decided the item yet."""
    return AgendaItem.objects.filter(
        subject_type=SUBJECT_TYPE, subject_id=str(version.pk), outcome=AgendaItem.Outcome.PENDING
    ).exists()


def check_item_values(*, kind: str, points: int, cap_per_period: int | None, proposer: str) -> None:
    if kind not in RuleItem.Kind.values or proposer not in RuleItem.Proposer.values:
        raise ValidationError(_("Unknown kind of rule item."))
    if (kind == RuleItem.Kind.DEDUCTION) != (points < 0) or points == 0:
        raise ValidationError(_("Deductions have negative points, other items positive points."))
    if cap_per_period is not None and cap_per_period < abs(points):
        raise ValidationError(_("The cap per period is smaller than the item's points."))


@transaction.atomic
def rule_item_update(
    *,
    actor: Any,
    item: RuleItem,
    code: str,
    kind: str,
    description: str,
    points: int,
    evidence: str = "",
    cap_per_period: int | None = None,
    proposer: str = RuleItem.Proposer.GRID,
) -> RuleItem:
    """Change an item of a draft version (all fields at once, like the form)."""
    require_actor(actor)
    version = _draft(item)
    _require_committee(actor, version.rule_set.village)
    check_item_values(kind=kind, points=int(points), cap_per_period=cap_per_period, proposer=proposer)
    code = (code or "").strip()[:10]
    description = (description or "").strip()
    if not code or not description:
        raise ValidationError(_("A rule item needs a code and a description."))
    if version.items.filter(code=code).exclude(pk=item.pk).exists():
        raise ValidationError(_("Code %(c)s is already used in this version.") % {"c": code})
    before = RuleItem.objects.get(pk=item.pk)
    values = {
        "code": code,
        "kind": kind,
        "description": description[:200],
        "points": int(points),
        "evidence": (evidence or "").strip()[:200],
        "cap_per_period": cap_per_period,
        "proposer": proposer,
    }
    changes = {k: [getattr(before, k), v] for k, v in values.items() if getattr(before, k) != v}
    RuleItem.objects.filter(pk=item.pk).update(**values)
    fresh = RuleItem.objects.get(pk=item.pk)
    audit_record(actor=actor, action="update", obj=fresh, county_code=version.county_code, changes=changes)
    return fresh


@transaction.atomic
def rule_item_remove(*, actor: Any, item: RuleItem) -> None:
    """Remove an item from a draft (no entry can refer to a draft's item)."""
    require_actor(actor)
    version = _draft(item)
    _require_committee(actor, version.rule_set.village)
    audit_record(
        actor=actor,
        action="delete",
        obj=item,
        county_code=version.county_code,
        changes={"code": [item.code, None], "points": [item.points, None]},
    )
    RuleItem.objects.filter(pk=item.pk).delete()


TABLE_WINDOW_DAYS = 30


def tableable_meetings(village: Any, *, now: dt.datetime | None = None) -> Any:
    """Meetings of the village that may adopt rules (村民会议 / 村民代表会议) and are still open
    for business: planned ones and those held within the last 30 days (the minutes of a
    recent meeting may still be typed in), newest first. Older meetings are closed history."""
    since = (now or timezone.now()) - dt.timedelta(days=TABLE_WINDOW_DAYS)
    return Meeting.objects.filter(region=village, kind__in=ADOPTING_KINDS, held_at__gte=since).order_by(
        "-held_at", "-pk"
    )


@transaction.atomic
def rule_version_table(*, actor: Any, version: RuleVersion, meeting: Meeting) -> AgendaItem:
    """Put a draft on the agenda of a 村民会议 / 村民代表会议 of its village. When the item is
    decided as passed, the meetings app's DECISION_HOOKS adopt the version."""
    require_actor(actor)
    village = version.rule_set.village
    _require_committee(actor, village)
    if not RuleVersion.objects.select_for_update().filter(pk=version.pk, state=RuleVersion.State.DRAFT).exists():
        raise ValidationError(_("Only a draft version can be changed; start a new version."), code="state")
    if is_tabled(version):
        raise ValidationError(_("This draft is already on the agenda of a meeting."), code="conflict")
    if meeting.region_id != village.pk or meeting.kind not in ADOPTING_KINDS:
        raise ValidationError(_("Points rules are adopted by a villagers' assembly or representatives meeting."))
    if not tableable_meetings(village).filter(pk=meeting.pk).exists():
        raise ValidationError(_("That meeting is closed; choose a planned or recent meeting."), code="closed")
    if not version.items.exists():
        raise ValidationError(_("A version without items cannot be adopted."))
    title = _("Points rules, version %(n)d") % {"n": version.number}
    return agenda_item_add(
        actor=actor,
        meeting=meeting,
        title=title,
        description=version.title,
        subject_type=SUBJECT_TYPE,
        subject_id=str(version.pk),
    )


SETTINGS = (
    "publicity_days",
    "redemption_period",
    "after_redemption",
    "min_balance_to_redeem",
    "exclude_absent",
    "ranking",
    "ranking_top_n",
)


@transaction.atomic
def rule_set_settings_update(
    *,
    actor: Any,
    rule_set: RuleSet,
    publicity_days: int,
    redemption_period: str,
    after_redemption: str,
    min_balance_to_redeem: int,
    exclude_absent: bool,
    ranking: str,
    ranking_top_n: int,
) -> RuleSet:
    require_actor(actor)
    _require_committee(actor, rule_set.village)
    if not 1 <= int(publicity_days) <= 60:
        raise ValidationError(_("Publicity lasts between 1 and 60 days."))
    if (
        redemption_period not in RuleSet.RedemptionPeriod.values
        or after_redemption not in RuleSet.AfterRedemption.values
        or ranking not in RuleSet.Ranking.values
    ):
        raise ValidationError(_("Unknown cycle setting."))
    if int(min_balance_to_redeem) < 0:
        raise ValidationError(_("The minimum balance cannot be negative."))
    if not 1 <= int(ranking_top_n) <= 500:
        raise ValidationError(_("A top list has between 1 and 500 households."))
    locked = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
    values: dict[str, Any] = {
        "publicity_days": int(publicity_days),
        "redemption_period": redemption_period,
        "after_redemption": after_redemption,
        "min_balance_to_redeem": int(min_balance_to_redeem),
        "exclude_absent": bool(exclude_absent),
        "ranking": ranking,
        "ranking_top_n": int(ranking_top_n),
    }
    changes = {k: [getattr(locked, k), v] for k, v in values.items() if getattr(locked, k) != v}
    if changes:
        RuleSet.objects.filter(pk=locked.pk).update(**values)
        touch("points", locked.village_id)  # the board links the ranking when one is published
        audit_record(actor=actor, action="update", obj=locked, note="cycle settings", changes=changes)
    return RuleSet.objects.get(pk=locked.pk)
