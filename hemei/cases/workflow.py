"""The case workflow as data (`hemei.core.workflow`): who handles a case from submission to
closure. Scope (which cases an actor sees and acts on) is checked by the pages and the API
before a service runs; the table records who, in words."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hemei.cases.models import Case, CaseEvent, DeadlineExtension, ExtensionEvent
from hemei.core.workflow import Move, Workflow, register

S = Case.Status
K = CaseEvent.Kind
HANDLERS = "staff whose posts cover the case's region"


def _notify(event: object) -> None:
    from hemei.cases.notifications import case_event_notify  # inbox rows in this transaction; mail after commit

    case_event_notify(event)  # type: ignore[arg-type]


CASE = register(Workflow(
    name="cases.case",
    model=Case,
    field="status",
    states=S,
    initial=S.SUBMITTED,
    event=CaseEvent,
    subject="case",
    touch=("updated_at",),
    on_event=_notify,
    refused=_("A case cannot go from %(old)s to %(new)s."),
    conflict=_("The case was changed by someone else; reload it."),
    doc="A report (诉求) from submission to closure; rating 不满意 reopens it.",
    moves=(
        Move(K.ACCEPTED, (S.SUBMITTED,), S.ACCEPTED, HANDLERS, sets=("responsible", "responsible_unit", "accepted_at")),
        Move(K.STARTED, (S.ACCEPTED,), S.IN_PROGRESS, HANDLERS),
        Move(K.RESOLVED, (S.ACCEPTED, S.IN_PROGRESS), S.RESOLVED, f"{HANDLERS}; a village meeting's decision",
             sets=("measures", "resolved_at")),
        Move(K.RATED, (S.RESOLVED,), S.CLOSED, "the reporter, or staff for them", sets=("rating", "closed_at")),
        Move(K.REOPENED, (S.RESOLVED,), S.IN_PROGRESS, "the reporter (不满意), or staff for them",
             sets=("rating", "resolve_by", "resolved_at", "rated_unsatisfied", "late_since")),
        Move(K.REJECTED, (S.SUBMITTED, S.ACCEPTED), S.REJECTED, HANDLERS, sets=("closed_at",)),
        Move(K.MERGED, (S.SUBMITTED, S.ACCEPTED), S.MERGED, HANDLERS, sets=("merged_into", "closed_at")),
    ),
))


X = DeadlineExtension.Status
ABOVE = "staff of the tier above the case's (its township for a village case, else its county)"


def _above(user: Any, extension: DeadlineExtension) -> bool:
    from hemei.cases.services import may_decide_extension

    return may_decide_extension(user, extension.case)


EXTENSION = register(Workflow(
    name="cases.extension",
    model=DeadlineExtension,
    field="status",
    states=X,
    initial=X.PENDING,
    event=ExtensionEvent,
    subject="extension",
    refused=_("This extension has already been decided."),
    conflict=_("This extension has already been decided."),
    doc="延期申请: a handler asks for a later resolve-by; the tier above grants it (the case's resolve-by "
        "moves) or refuses it with a reason. A decided request is never decided again; a new ask is a new row.",
    moves=(
        Move("granted", (X.PENDING,), X.GRANTED, ABOVE, _above, sets=("decided_by", "decided_at", "decision_note")),
        Move("refused", (X.PENDING,), X.REFUSED, f"{ABOVE}, with a reason", _above,
             sets=("decided_by", "decided_at", "decision_note")),
    ),
))
