"""The workflows of the village's services as data (`hemei.core.workflow`): study-tour
bookings, emergency responses and childcare applications.

Study tours: a booking holds its places from the moment it is made (requested); the village confirms it,
and after the visit marks it visited or no-show. Cancelling is the only move that gives places
back: the workflow's `on_event` hook releases them under the slot's row lock in the move's own
transaction, so whichever code makes the move, the slot's count stays the sum of what is held."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hemei.core.models import WorkflowEvent
from hemei.core.workflow import Move, Workflow, holds, register
from hemei.services.access import CHILDCARE_ROLES, DECLARE_ROLES, MANAGE_ROLES
from hemei.services.models import (
    Booking,
    BookingEvent,
    ChildcareApplication,
    ChildcareEvent,
    GridCheck,
    GridCheckEvent,
    Response,
    ResponseEvent,
)

S = Booking.Status


def _release_on_cancel(event: WorkflowEvent) -> None:
    if event.kind == "cancel":
        from hemei.services.services import give_back_places

        booking = event.booking  # type: ignore[attr-defined]
        give_back_places(booking.slot_id, booking.group_size)


STAFF = "village cadres, township and county staff over the venue's village"

BOOKING = register(Workflow(
    name="services.booking",
    model=Booking,
    field="status",
    states=S,
    initial=S.REQUESTED,
    event=BookingEvent,
    subject="booking",
    touch=("updated_at",),
    on_event=_release_on_cancel,
    doc="A group's study-tour booking (研学) of a venue's slot; its places are held from the request "
        "until it is cancelled; a slot never holds more people than its capacity.",
    moves=(
        Move("confirm", (S.REQUESTED,), S.CONFIRMED, STAFF, guard=holds(MANAGE_ROLES, over="region")),
        Move("cancel", (S.REQUESTED, S.CONFIRMED), S.CANCELLED, STAFF, guard=holds(MANAGE_ROLES, over="region"),
             sets=("note",)),
        Move("visited", (S.CONFIRMED,), S.VISITED, STAFF + ", once the slot has begun",
             guard=holds(MANAGE_ROLES, over="region")),
        Move("no_show", (S.CONFIRMED,), S.NO_SHOW, STAFF + ", once the slot has begun",
             guard=holds(MANAGE_ROLES, over="region"), sets=("note",)),
    ),
))


R = Response.Status
DECLARERS = "county and township staff over the response's area"

RESPONSE = register(Workflow(
    name="services.response",
    model=Response,
    field="status",
    states=R,
    initial=R.ACTIVE,
    event=ResponseEvent,
    subject="response",
    touch=("updated_at",),
    doc="An emergency response level (应急响应, Ⅳ→Ⅰ) declared for an area; raised and lowered while in force, "
        "then lifted, each with a reason. Every grid of the area checks in its vulnerable households.",
    moves=(
        Move("raise", (R.ACTIVE,), R.ACTIVE, DECLARERS + " (towards Ⅰ)", guard=holds(DECLARE_ROLES, over="region"),
             sets=("level", "checkin_by")),
        Move("lower", (R.ACTIVE,), R.ACTIVE, DECLARERS + " (towards Ⅳ)", guard=holds(DECLARE_ROLES, over="region"),
             sets=("level",)),
        Move("lift", (R.ACTIVE,), R.LIFTED, DECLARERS, guard=holds(DECLARE_ROLES, over="region"),
             sets=("lifted_at",)),
    ),
))


G = GridCheck.Status


def _grid_staff(actor: object, obj: object) -> bool:
    from hemei.core.scope import may

    return may(actor, "check_in", obj)


GRID_CHECK = register(Workflow(
    name="services.gridcheck",
    model=GridCheck,
    field="status",
    states=G,
    initial=G.PENDING,
    event=GridCheckEvent,
    subject="grid_check",
    conflict=_("This grid has already checked in."),
    doc="One grid's check-in under an emergency response: its staff report the vulnerable households "
        "contacted (one row each). Not checked in by the deadline, it escalates to the township (a change "
        "of tier, not of state).",
    moves=(
        Move("check_in", (G.PENDING,), G.DONE, "the grid's staff and the village's cadres", guard=_grid_staff,
             sets=("households", "reached", "checked_in_by", "checked_in_at")),
    ),
))


C = ChildcareApplication.Status


def _places_follow_moves(event: WorkflowEvent) -> None:
    """A childcare centre's counts follow each move in the move's own transaction, so
    whichever code makes it, `enrolled` and `offered` stay the number of applications in those
    states (`hemei.services.childcare.places_follow`: row lock + conditional update)."""
    if event.from_state:  # the first event (applied) holds nothing
        from hemei.services.childcare import places_follow

        places_follow(event.application, move=event.kind, from_state=event.from_state)  # type: ignore[attr-defined]


CARERS = "village cadres, township and county staff over the centre's village or township"

CHILDCARE = register(Workflow(
    name="services.childcare",
    model=ChildcareApplication,
    field="status",
    states=C,
    initial=C.APPLIED,
    event=ChildcareEvent,
    subject="application",
    touch=("updated_at",),
    on_event=_places_follow_moves,
    doc="A family's application for a childcare place (托育): it waits in order of application until a place "
        "is offered (held for the family), taken up and later given up; withdrawing or declining gives the "
        "place back. A centre never has more children enrolled and offered than places; an offer goes to "
        "the head of the waiting list unless a written reason is given for skipping it.",
    moves=(
        Move("offer", (C.APPLIED,), C.OFFERED, CARERS + "; to the head of the waiting list, or with a reason",
             guard=holds(CHILDCARE_ROLES, over="region"), sets=("offered_at",)),
        Move("enrol", (C.OFFERED,), C.ENROLLED, CARERS, guard=holds(CHILDCARE_ROLES, over="region"),
             sets=("enrolled_on",)),
        Move("leave", (C.ENROLLED,), C.LEFT, CARERS, guard=holds(CHILDCARE_ROLES, over="region"),
             sets=("left_on",)),
        Move("withdraw", (C.APPLIED, C.OFFERED), C.WITHDRAWN, CARERS + ", for the family",
             guard=holds(CHILDCARE_ROLES, over="region")),
        Move("decline", (C.OFFERED,), C.DECLINED, CARERS + ", for the family",
             guard=holds(CHILDCARE_ROLES, over="region")),
        # No user makes this move: the guard refuses every one (system actors pass every guard).
        Move("lapse", (C.OFFERED,), C.DECLINED, "the sweep, when the family has not taken up the offer within "
             "HEMEI_CHILDCARE_OFFER_DAYS", guard=lambda actor, obj: False),
    ),
))
