"""Every write to meetings and agenda items (ARCHITECTURE rule 1): typed, keyword-only, atomic,
audited. `at` lets the demo and back-fills record a moment other than now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.freshness import touch
from hemei.core.parsing import clean_text, parse_int
from hemei.core.scope import require_actor, user_of
from hemei.meetings import rules
from hemei.meetings.models import AgendaItem, Meeting, MeetingAttendee
from hemei.regions.access import scope_for
from hemei.regions.models import Level, Region, Resident

TEXT_LIMIT = 4000
MINUTES_LIMIT = 20000
Outcome = AgendaItem.Outcome

# subject_type → function called (inside the deciding transaction) when such an item is decided.
# Later apps register here, e.g. DECISION_HOOKS["points.ruleversion"] = rule_version_adopted.
DecisionHook = Callable[..., None]
DECISION_HOOKS: dict[str, DecisionHook] = {}



def _check_scope(actor: Any, region: Region) -> None:
    """A signed-in actor must hold a writing post over the village (the pages check it too;
    this keeps the API or a tampered form from getting round them)."""
    if not scope_for(actor).covers_path(region.path, write=True):
        raise ValidationError(_("You may not record meetings of this village."), code="scope")


_text = partial(clean_text, limit=TEXT_LIMIT)


MAX_COUNT = 2**31 - 1


def _count(value: Any, label: str, *, required: bool = False) -> int | None:
    """A non-negative whole number (bool and floats refused: 2.5 people never attended)."""
    if value is None or value == "":
        if required:
            raise ValidationError(_("%(field)s is required.") % {"field": label})
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        number = parse_int(value) if isinstance(value, str) else None
        if number is None:
            raise ValidationError(_("%(field)s must be a whole number.") % {"field": label})
        value = number
    if value < 0:
        raise ValidationError(_("%(field)s cannot be negative.") % {"field": label})
    if value > MAX_COUNT:  # what an integer column holds on PostgreSQL; more is a typo
        raise ValidationError(_("%(field)s must be a whole number.") % {"field": label})
    return int(value)


def _check_attendance(
    kind: str, attendees: int | None, eligible: int | None, households_total: int | None, households_present: int | None
) -> None:
    if attendees is None:
        return
    if eligible is not None and attendees > eligible and kind != Meeting.Kind.VILLAGERS:
        raise ValidationError(_("More attendees than members."))
    if kind == Meeting.Kind.VILLAGERS:
        if eligible is None and households_total is None:
            raise ValidationError(
                _(
                    "For a villagers' assembly give the number of adult villagers or of "
                    "households, so that the quorum can be checked."
                )
            )
        if eligible is not None and attendees > eligible:
            raise ValidationError(_("More attendees than adult villagers."))
    if kind == Meeting.Kind.REPRESENTATIVES and eligible is None:
        raise ValidationError(_("For a representatives' meeting give the number of its members."))
    if households_present is not None and households_total is not None and households_present > households_total:
        raise ValidationError(_("More households represented than households in the village."))
    if (households_present is None) != (households_total is None):
        raise ValidationError(_("Give both the households represented and the households in the village."))


@transaction.atomic
def meeting_record(
    *,
    actor: Any,
    region: Region,
    kind: str,
    held_at: dt.datetime,
    place: str = "",
    convened_by: str = "",
    attendees: int | None = None,
    eligible: int | None = None,
    households_total: int | None = None,
    households_present: int | None = None,
    minutes: str = "",
    named_attendees: Iterable[Resident] = (),
    at: dt.datetime | None = None,
) -> Meeting:
    """A meeting of a village, held or planned. Attendance may come later (`meeting_attendance`)."""
    require_actor(actor)
    if region.level != Level.VILLAGE:
        raise ValidationError(_("A meeting belongs to a village."))
    if kind not in Meeting.Kind.values:
        raise ValidationError(_("Unknown meeting kind %(k)s.") % {"k": kind})
    _check_scope(actor, region)
    if not isinstance(held_at, dt.datetime) or timezone.is_naive(held_at):
        raise ValidationError(_("Give the date and time of the meeting."))
    now = at or timezone.now()
    n_attendees = _count(attendees, _("Attendees"))
    n_eligible = _count(eligible, _("Eligible"))
    n_total = _count(households_total, _("Households in the village"))
    n_present = _count(households_present, _("Households represented"))
    if n_attendees is not None and held_at > now:
        raise ValidationError(_("Attendance can only be recorded once the meeting has taken place."))
    _check_attendance(kind, n_attendees, n_eligible, n_total, n_present)
    people = list(named_attendees)
    if people and (n_attendees is None or len(people) > n_attendees):
        raise ValidationError(_("More named attendees than attendees."))
    if any(not r.region.path.startswith(region.path) for r in people):
        raise ValidationError(_("A named attendee does not live in this village."))
    county = region.county_ancestor()
    if county is None:
        raise ValidationError(_("Region %(r)s is not inside a county.") % {"r": region})
    meeting = Meeting.objects.create(
        county=county,
        region=region,
        kind=kind,
        held_at=held_at,
        place=_text(place, _("Place"), limit=100),
        convened_by=_text(convened_by, _("Convened by"), limit=100),
        attendees=n_attendees,
        eligible=n_eligible,
        households_total=n_total,
        households_present=n_present,
        minutes=_text(minutes, _("Minutes"), limit=MINUTES_LIMIT),
        created_by=user_of(actor),
        created_at=now,
    )
    MeetingAttendee.objects.bulk_create([MeetingAttendee(meeting=meeting, resident=r) for r in people])
    audit_record(
        actor=actor,
        action="create",
        obj=meeting,
        changes={
            "kind": [None, kind],
            "held_at": [None, held_at],
            "attendees": [None, n_attendees],
            "eligible": [None, n_eligible],
            "named_attendees": [None, len(people)],
        },
    )
    return meeting


@transaction.atomic
def meeting_attendance(
    *,
    actor: Any,
    meeting: Meeting,
    attendees: int,
    eligible: int | None = None,
    households_total: int | None = None,
    households_present: int | None = None,
    minutes: str = "",
    at: dt.datetime | None = None,
) -> Meeting:
    """Attendance of a planned meeting, once, after it took place (conditional update: two
    clerks entering it at once never both write)."""
    require_actor(actor)
    _check_scope(actor, meeting.region)
    now = at or timezone.now()
    if meeting.held_at > now:
        raise ValidationError(_("Attendance can only be recorded once the meeting has taken place."))
    n_attendees = _count(attendees, _("Attendees"), required=True)
    n_eligible = _count(eligible, _("Eligible"))
    n_total = _count(households_total, _("Households in the village"))
    n_present = _count(households_present, _("Households represented"))
    _check_attendance(meeting.kind, n_attendees, n_eligible, n_total, n_present)
    values: dict[str, Any] = {
        "attendees": n_attendees,
        "eligible": n_eligible,
        "households_total": n_total,
        "households_present": n_present,
    }
    minutes = _text(minutes, _("Minutes"), limit=MINUTES_LIMIT)
    if minutes:
        values["minutes"] = minutes
    if Meeting.objects.filter(pk=meeting.pk, attendees__isnull=True).update(**values) != 1:
        raise ValidationError(_("The attendance of this meeting is already recorded."), code="conflict")
    audit_record(
        actor=actor,
        action="update",
        obj=meeting,
        changes={k: [None, v] for k, v in values.items() if k != "minutes"},
        note="attendance",
    )
    meeting.refresh_from_db()
    return meeting


@transaction.atomic
def agenda_item_add(
    *,
    actor: Any,
    meeting: Meeting,
    title: str,
    description: str = "",
    case: Any = None,
    corrects: AgendaItem | None = None,
    subject_type: str = "",
    subject_id: str = "",
    at: dt.datetime | None = None,
) -> AgendaItem:
    """An item at the end of the agenda. A correction points at a decided item of the same village."""
    require_actor(actor)
    _check_scope(actor, meeting.region)
    title = _text(title, _("Title"), limit=100, required=True)
    description = _text(description, _("Description"))
    if corrects is not None:
        if not corrects.is_decided:
            raise ValidationError(_("Only a decided item can be corrected; change the agenda instead."))
        if corrects.meeting.region_id != meeting.region_id:
            raise ValidationError(_("A correction belongs to a meeting of the same village."))
    if case is not None and not case.region.path.startswith(meeting.region.path):
        raise ValidationError(_("The case is not in this meeting's village."))
    # Lock the meeting row so two clerks adding at once get different order numbers.
    Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
    last = AgendaItem.objects.filter(meeting=meeting).aggregate(m=Max("order"))["m"] or 0
    now = at or timezone.now()
    item = AgendaItem.objects.create(
        meeting=meeting,
        order=last + 1,
        title=title,
        description=description,
        case=case,
        corrects=corrects,
        subject_type=_text(subject_type, "subject_type", limit=60),
        subject_id=_text(subject_id, "subject_id", limit=40),
        created_by=user_of(actor),
        created_at=now,
    )
    audit_record(
        actor=actor,
        action="create",
        obj=item,
        changes={
            "meeting": [None, meeting.pk],
            "title": [None, title],
            "case": [None, getattr(case, "number", None)],
            "corrects": [None, getattr(corrects, "pk", None)],
        },
    )
    return item


@transaction.atomic
def agenda_item_decide(
    *,
    actor: Any,
    item: AgendaItem,
    votes_for: Any,
    votes_against: Any,
    votes_abstain: Any,
    decision: str,
    at: dt.datetime | None = None,
) -> AgendaItem:
    """Record the vote on one item, once.

    1. Check the votes (whole numbers, not negative, for + against + abstain ≤ attendees) and
       the decision text; the meeting must have taken place and its attendance be recorded.
    2. Compute the outcome (`rules.passes`: quorum, and more than half of those present for).
    3. Conditional update on (pk, outcome=pending): a second decision changes nothing.
    4. Audit row; then the item's subject follows: a case gets its `decided` event and, if
       passed, is resolved with the decision as its measures (`hemei.cases.deliberation`);
       other subjects through `DECISION_HOOKS`.
    """
    require_actor(actor)
    meeting = Meeting.objects.select_related("region").get(pk=item.meeting_id)  # fresh attendance
    _check_scope(actor, meeting.region)
    now = at or timezone.now()
    if meeting.held_at > now:
        raise ValidationError(_("The meeting has not taken place yet."))
    if meeting.attendees is None:
        raise ValidationError(_("Record the meeting's attendance before the votes."))
    v_for = _count(votes_for, _("Votes for"), required=True)
    v_against = _count(votes_against, _("Votes against"), required=True)
    v_abstain = _count(votes_abstain, _("Abstentions"), required=True)
    assert v_for is not None and v_against is not None and v_abstain is not None
    if v_for + v_against + v_abstain > meeting.attendees:
        raise ValidationError(
            _("%(n)d votes but only %(a)d attendees.") % {"n": v_for + v_against + v_abstain, "a": meeting.attendees}
        )
    decision = _text(decision, _("Decision"), required=True)
    passed = rules.passes(
        meeting.kind,
        attendees=meeting.attendees,
        votes_for=v_for,
        eligible=meeting.eligible,
        households_total=meeting.households_total,
        households_present=meeting.households_present,
    )
    outcome = Outcome.PASSED if passed else Outcome.FAILED
    changed = AgendaItem.objects.filter(pk=item.pk, outcome=Outcome.PENDING).update(
        votes_for=v_for,
        votes_against=v_against,
        votes_abstain=v_abstain,
        decision=decision,
        outcome=outcome,
        decided_at=now,
        decided_by=user_of(actor),
    )
    if changed != 1:
        raise ValidationError(_("This item is already decided; record a correction as a new item."), code="conflict")
    touch("meetings", meeting.region_id)  # the public board counts decided items
    item.refresh_from_db()
    audit_record(
        actor=actor,
        action="update",
        obj=item,
        note="decided",
        changes={
            "outcome": [Outcome.PENDING, outcome],
            "votes": [None, [v_for, v_against, v_abstain]],
            "quorum": [None, meeting.quorum_met()],
        },
    )
    if item.case_id is not None:
        from hemei.cases.deliberation import case_decide_from_meeting

        case_decide_from_meeting(actor=actor, item=item, at=now)
    hook = DECISION_HOOKS.get(item.subject_type)
    if hook is not None:
        hook(actor=actor, item=item, at=now)
    return item
