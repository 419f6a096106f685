"""The party session's lifecycle as data (`hemei.core.workflow`): planned → held (the sign-in
code can be shown, the roll can be called) → recorded (minutes and hours written, everyone
expected and not present is recorded absent); a planned session may be cancelled."""

from __future__ import annotations

from hemei.core.workflow import Move, Workflow, holds, register
from hemei.party.access import PARTY_MANAGE_ROLES
from hemei.party.models import Session, SessionEvent

S = Session.Status
WHO = "the village party secretary, township staff or the county administrator over the branch"
_manage = holds(PARTY_MANAGE_ROLES, over="region")


def _guard(actor: object, session: object) -> bool:
    return _manage(actor, session.branch)  # type: ignore[attr-defined]


SESSION = register(Workflow(
    name="party.session",
    model=Session,
    field="status",
    states=S,
    initial=S.PLANNED,
    event=SessionEvent,
    subject="session",
    touch=("updated_at",),
    doc="A 三会一课 session or study: opened when it begins (a short-lived sign-in code is shown "
        "as a QR code; the roll can be called), recorded with minutes and hours afterwards (the "
        "members expected and not present are recorded absent).",
    moves=(
        Move("opened", (S.PLANNED,), S.HELD, WHO, guard=_guard, sets=("held_at", "code", "code_expires_at")),
        Move("recorded", (S.HELD,), S.RECORDED, WHO, guard=_guard,
             sets=("minutes", "hours", "materials", "code", "code_expires_at")),
        Move("cancelled", (S.PLANNED,), S.CANCELLED, WHO, guard=_guard),
    ),
))
