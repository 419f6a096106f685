"""Cases put to a village meeting (网格听事—民主议事—群众评事).

The grid hears a problem (a case), a village meeting decides it (an agenda item with votes),
and the villager rates the result: a passed decision resolves the case with the decision as
its measures, so it reaches the reporter for rating like any resolution. A failed vote
leaves the case open, with a `decided` event saying so. Writes go through
`hemei.meetings.services` and the case helpers `_event` / `_transition` (one writer each).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.cases.models import Case, CaseEvent
from hemei.cases.services import _event, _transition
from hemei.core.scope import require_actor
from hemei.meetings.models import AgendaItem, Meeting
from hemei.meetings.services import agenda_item_add

S = Case.Status
# A case is tabled once it has been taken on (accepted or in progress): resolving needs a
# responsible person or unit, and a submitted case must be accepted (or rejected) first.
TABLEABLE = (S.ACCEPTED, S.IN_PROGRESS)


def _touch(case: Case, now: dt.datetime) -> None:
    """A step on the timeline that keeps the status still updates the case (as a transfer
    does): `updated_at` is the time of the last event. Conditional on the status we read."""
    if Case.objects.filter(pk=case.pk, status=case.status).update(updated_at=now) != 1:
        raise ValidationError(_("The case was changed by someone else; reload it."), code="conflict")
    case.updated_at = now


def _meeting_data(item: AgendaItem) -> dict[str, Any]:
    meeting = item.meeting
    return {
        "meeting": meeting.pk,
        "item": item.pk,
        "meeting_kind": meeting.kind,
        "held_at": meeting.held_at.isoformat(),
    }


@transaction.atomic
def case_table(
    *, actor: Any, case: Case, meeting: Meeting, title: str = "", description: str = "", at: dt.datetime | None = None
) -> AgendaItem:
    """Put an open case on a meeting's agenda: an agenda item pointing at the case and a
    `tabled` event on the case's timeline. The case's status and deadlines do not change."""
    require_actor(actor)
    case = Case.objects.select_for_update().select_related("region").get(pk=case.pk)
    if case.status not in TABLEABLE:
        raise ValidationError(_("Only a case that has been accepted and is not yet resolved can be put to a meeting."))
    if not case.region.path.startswith(meeting.region.path):
        raise ValidationError(_("The case is not in this meeting's village."))
    if AgendaItem.objects.filter(case=case, outcome=AgendaItem.Outcome.PENDING).exists():
        raise ValidationError(_("This case is already on a meeting's agenda."))
    now = at or timezone.now()
    item = agenda_item_add(
        actor=actor,
        meeting=meeting,
        title=title or case.title,
        description=description or case.description,
        case=case,
        at=now,
    )
    _touch(case, now)
    _event(
        case,
        kind=CaseEvent.Kind.TABLED,
        actor=actor,
        at=now,
        from_status=case.status,
        to_status=case.status,
        note=item.title,
        data=_meeting_data(item),
    )
    return item


def case_decide_from_meeting(*, actor: Any, item: AgendaItem, at: dt.datetime | None = None) -> Case:
    """Called by `agenda_item_decide` in its transaction once the item's vote is recorded.

    1. Write a `decided` event with the outcome and the votes.
    2. Passed and the case still being worked on: resolve it with the decision as measures
       (`_transition`, the same step as `case_resolve`), so the reporter is asked to rate.
    3. Failed, or the case was settled meanwhile: the case stays as it is.
    """
    require_actor(actor)
    if item.case_id is None or not item.is_decided:
        raise ValidationError(_("This agenda item has no decided case."))
    now = at or item.decided_at or timezone.now()
    case = Case.objects.select_for_update().get(pk=item.case_id)
    passed = item.outcome == AgendaItem.Outcome.PASSED
    data = _meeting_data(item) | {
        "outcome": item.outcome,
        "votes_for": item.votes_for,
        "votes_against": item.votes_against,
        "votes_abstain": item.votes_abstain,
    }
    _touch(case, now)
    _event(
        case,
        kind=CaseEvent.Kind.DECIDED,
        actor=actor,
        at=now,
        from_status=case.status,
        to_status=case.status,
        note=item.decision,
        data=data,
    )
    if passed and case.status in TABLEABLE:
        case = _transition(
            case,
            to=S.RESOLVED,
            actor=actor,
            kind=CaseEvent.Kind.RESOLVED,
            note=item.decision,
            now=now,
            fields={"measures": item.decision, "resolved_at": now},
            data={"meeting": item.meeting_id, "item": item.pk},
        )
    return case
