"""State machines as tables: one mechanism for every lifecycle in Hemei.

Each model with a lifecycle declares a `Workflow`: its state field, its states, and the moves
between them. A move names the states it may start from, the state it reaches, the kind of
event it writes, who may make it (in words for the docs, and as a check where the app checks
roles) and the fields it sets besides the state. `transition()` is the only code that changes
such a state; `hemei workflows` renders every registered table (docs/workflows.md is
generated from it, and a test keeps the two equal).

The shape follows django-oscar's `AbstractOrder.set_status` (a pipeline checked before the
change, an `OrderStatusChange` row after) and healthchecks' conditional updates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record
from hemei.core.freshness import touched
from hemei.core.models import WorkflowEvent
from hemei.core.scope import is_system, require_actor, user_of
from hemei.core.scope import may as scope_may

# A role check: (actor, object) → may the actor make this move on this object?
Guard = Callable[[Any, Any], bool]


def _row(actor: Any) -> Any:
    """The user an event row points at: none for SYSTEM (or an anonymous caller)."""
    user = user_of(actor)
    return user if getattr(user, "pk", None) is not None else None


@dataclass(frozen=True)
class Move:
    """One allowed step: from any of `sources` to `target`, recorded as an event of `kind`."""

    kind: str
    sources: tuple[str, ...]
    target: str
    roles: str = ""  # who may make it, in words (the docs' column)
    guard: Guard | None = None  # the check, where the app checks roles for this step
    sets: tuple[str, ...] = ()  # the fields the move may set besides the state
    # Fields the move cannot happen without (a publication's chain link): only the app's
    # service can compute them, so a bare `transition` call without them is a programming
    # error, refused before the database's own constraint would fail on it.
    needs: tuple[str, ...] = ()
    doc: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.sources, str):  # a one-state tuple written without its comma
            object.__setattr__(self, "sources", (self.sources,))


@dataclass
class Workflow:
    """The table of one model's lifecycle and where its history goes."""

    name: str
    model: type[models.Model]
    field: str
    states: type[models.TextChoices]
    moves: tuple[Move, ...]
    event: type[WorkflowEvent]
    subject: str  # the event model's foreign key to the object
    initial: str = ""
    touch: tuple[str, ...] = ()  # timestamp fields every move sets to the moment of the move
    conflict: Any = ""  # message when another process moved the object first
    refused: Any = ""  # message for a move not in the table, with %(old)s and %(new)s
    on_event: Callable[[WorkflowEvent], None] | None = None
    doc: str = ""
    _by_target: dict[str, list[Move]] = dataclass_field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        states = set(self.states.values)
        for move in self.moves:
            unknown = ({move.target, *move.sources} - states)
            if unknown:
                raise ValueError(f"{self.name}: move {move.kind} names unknown states {sorted(unknown)}")
            self._by_target.setdefault(move.target, []).append(move)

    def targets(self, state: str) -> set[str]:
        """Every state one move away from `state`."""
        return {m.target for m in self.moves if state in m.sources}

    def final(self) -> list[str]:
        """States no move leaves."""
        return [s for s in self.states.values if not self.targets(s)]

    def find(self, old: str, to: str, kind: str = "") -> Move | None:
        for move in self._by_target.get(to, []):
            if old in move.sources and (not kind or move.kind == kind):
                return move
        return None

    def label(self, state: str) -> str:
        try:
            return str(self.states(state).label)
        except ValueError:
            return state

    def may(self, actor: Any, obj: Any, move: Move) -> bool:
        return move.guard is None or is_system(actor) or bool(move.guard(actor, obj))


def holds(roles: frozenset[str], *, over: str = "village") -> Guard:
    """A guard: the actor holds one of `roles` over the object's region `over` (its village by
    default), as `hemei.core.scope.may` answers it."""

    def guard(actor: Any, obj: Any) -> bool:
        return scope_may(actor, roles, getattr(obj, over))

    return guard


REGISTRY: dict[str, Workflow] = {}
_BY_MODEL: dict[type[models.Model], Workflow] = {}


def register(workflow: Workflow) -> Workflow:
    """Add a workflow to the registry (an app's module does this at import)."""
    REGISTRY[workflow.name] = workflow
    _BY_MODEL[workflow.model] = workflow
    return workflow


def workflow_for(obj: models.Model | type[models.Model]) -> Workflow:
    model = obj if isinstance(obj, type) else type(obj)
    for attempt in range(2):
        for klass in model.__mro__:
            if klass in _BY_MODEL:
                return _BY_MODEL[klass]
        if attempt == 0:
            load_all()  # an app's table registers when its workflow module is first imported
    raise LookupError(f"no workflow registered for {model.__name__}")


def refuse(workflow: Workflow, old: str, to: str) -> ValidationError:
    labels = {"old": workflow.label(old), "new": workflow.label(to)}
    if workflow.refused:
        return ValidationError(str(workflow.refused) % labels, code="transition")
    return ValidationError(
        _("%(what)s cannot go from %(old)s to %(new)s.") % {"what": workflow.model._meta.verbose_name, **labels},
        code="transition",
    )


def check(obj: models.Model, to: str, *, actor: Any, move: str = "") -> Move:
    """The move that takes `obj` from its state to `to` and that `actor` may make; refuses
    (ValidationError `transition`, PermissionDenied) otherwise. Changes nothing, so a service
    can check before it validates the rest of its input."""
    require_actor(actor)
    workflow = workflow_for(obj)
    old = getattr(obj, workflow.field)
    found = workflow.find(old, to, move)
    if found is None:
        raise refuse(workflow, old, to)
    if not workflow.may(actor, obj, found):
        raise PermissionDenied(_("You may not do this here."))
    return found


def record(
    obj: models.Model,
    *,
    kind: str,
    actor: Any,
    at: dt.datetime | None = None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    **columns: Any,
) -> WorkflowEvent:
    """Append one history row about `obj` that is not a state change (a photo, a payment, a
    reminder), in the same table and shape as its moves."""
    workflow = workflow_for(obj)
    event = workflow.event.objects.create(
        **{workflow.subject: obj}, at=at or timezone.now(), actor=_row(actor), kind=kind,
        from_state=from_state, to_state=to_state, note=note, data=data or {}, **columns,
    )
    if workflow.on_event is not None:
        workflow.on_event(event)
    touched(obj)  # cached pages that show this row (hemei.core.freshness)
    return event


def past_event(
    obj: models.Model,
    *,
    kind: str,
    at: dt.datetime,
    actor: Any = None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    **columns: Any,
) -> WorkflowEvent:
    """An unsaved history row about `obj`, in its workflow's event table and shape, for bulk
    loads of moves that already happened (the demo's simulated year, imports): the caller
    bulk-creates them beside rows it built in their final state, so no `transition()` runs."""
    workflow = workflow_for(obj)
    return workflow.event(
        **{workflow.subject: obj}, at=at, actor=_row(actor) if actor is not None else None, kind=kind,
        from_state=from_state, to_state=to_state, note=note, data=data or {}, **columns,
    )


@transaction.atomic
def transition[M: models.Model](
    obj: M,
    to: str,
    *,
    actor: Any,
    move: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
    expect: dict[str, Any] | None = None,
    event: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
    audit_note: str | None = None,
    **fields: Any,
) -> M:
    """Move `obj` to the state `to`; the one writer of every workflow state.

    1. Refuse an actor that is none or anonymous (`require_actor`).
    2. Find the move in the table from the state as read (`move`, an event kind, picks one
       when two moves join the same states); refuse anything else (ValidationError `transition`), and an
       actor the move's roles exclude (PermissionDenied). Nothing is written.
    3. Update the row only if it still has the state we read (and the `expect`ed values):
       `filter(pk=…, <field>=old).update(…)`. No row changed means another process moved it
       first: ValidationError `conflict`, and nothing changes.
    4. Append the event row (`event` adds columns of the app's own event table) and the audit
       row (`changes` replaces the default: the state and each field set, as [old, new]).
    5. Refresh the caller's object from the database.
    """
    workflow = workflow_for(obj)
    step = check(obj, to, actor=actor, move=move)
    unexpected = set(fields) - set(step.sets) - set(workflow.touch)
    if unexpected:
        raise ValueError(f"{workflow.name}: move {step.kind} does not set {sorted(unexpected)}")
    missing = set(step.needs) - set(fields)
    if missing:
        raise ValueError(f"{workflow.name}: move {step.kind} needs {sorted(missing)} (its service sets them)")
    old = getattr(obj, workflow.field)
    now = at or timezone.now()
    values = {workflow.field: to, **{name: now for name in workflow.touch}, **fields}
    before = {name: getattr(obj, name, None) for name in fields}
    matched = workflow.model._default_manager.filter(pk=obj.pk, **{workflow.field: old}, **(expect or {}))
    if matched.update(**values) != 1:
        raise ValidationError(
            str(workflow.conflict) or _("Someone else changed this meanwhile; reload the page."), code="conflict"
        )
    record(obj, kind=step.kind, actor=actor, at=now, from_state=old, to_state=to, note=note, data=data,
           **(event or {}))
    if changes is None:
        changes = {workflow.field: [old, to], **{k: [before[k], v] for k, v in fields.items()}}
    audit_record(actor=actor, action="update", obj=obj, changes=changes,
                 note=step.kind if audit_note is None else audit_note)
    obj.refresh_from_db()
    return obj


# --- the documentation ---------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render_markdown(workflows: Iterable[Workflow] | None = None) -> str:
    """Every registered workflow as Markdown: its states and its moves (`hemei workflows`)."""
    from django.utils import translation

    load_all()
    chosen = sorted(workflows or REGISTRY.values(), key=lambda w: w.name)
    lines = [
        "# Workflows",
        "",
        "Generated by `hemei workflows` from the tables in the code (`hemei.core.workflow`);",
        "`tests/test_workflow.py` fails when this file and the tables differ. Every state change",
        "goes through `transition()`: the move must be in the table, the row changes only if it",
        "still has the state that was read, and each change leaves one event row and one audit row.",
    ]
    with translation.override("en"):
        for wf in chosen:
            label = wf.model._meta
            lines += ["", f"## {wf.name}", ""]
            if wf.doc:
                lines += [_cell(wf.doc), ""]
            lines += [
                f"Model `{label.app_label}.{label.object_name}`, state field `{wf.field}`, history in "
                f"`{wf.event._meta.app_label}.{wf.event._meta.object_name}`.",
                "",
                "| state | label | moves to |",
                "|---|---|---|",
            ]
            for state in wf.states.values:
                targets = ", ".join(f"`{t}`" for t in wf.states.values if t in wf.targets(state)) or "(final)"
                mark = " (initial)" if state == wf.initial else ""
                lines.append(f"| `{state}`{mark} | {_cell(wf.label(state))} | {targets} |")
            lines += ["", "| move | from | to | who | sets |", "|---|---|---|---|---|"]
            for move in wf.moves:
                sources = ", ".join(f"`{s}`" for s in move.sources)
                sets = ", ".join(f"`{s}`" for s in move.sets) or "—"
                lines.append(f"| `{move.kind}` | {sources} | `{move.target}` | {_cell(move.roles) or '—'} | {sets} |")
    if workflows is None:
        lines += ["", "## Not workflows", "",
                  "Fields named status, state, step or stage that are not lifecycles, and why:", "",
                  "| model | why |", "|---|---|"]
        lines += [f"| `{label}` | {_cell(why)} |" for label, why in sorted(NOT_WORKFLOWS.items())]
    return "\n".join(lines) + "\n"


# The modules that register workflows; `load_all()` imports them so a command or a test sees
# every table without depending on which services happen to be imported already.
WORKFLOW_MODULES: list[str] = [
    "hemei.cases.workflow",
    "hemei.disclosure.workflow",
    "hemei.contracts.workflow",
    "hemei.visits.workflow",
    "hemei.stars.workflow",
    "hemei.courtyard.workflow",
    "hemei.points.workflow",
    "hemei.care.workflow",
    "hemei.indicators.workflow",
    "hemei.devices.workflow",
    "hemei.party.workflow",
    "hemei.services.workflow",
    "hemei.policies.workflow",
    "hemei.assets.workflow",
    "hemei.regions.workflow",
]


def load_all() -> dict[str, Workflow]:
    import importlib

    for name in WORKFLOW_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return REGISTRY


# Fields named like a state that are not lifecycles, each with the reason; every other model
# field named status, state, step or stage with choices must belong to a registered workflow
# (`tests/test_workflow.py` checks it, so a new state cannot bypass `transition()` unseen).
STATE_FIELD_NAMES = ("status", "state", "step", "stage")
NOT_WORKFLOWS: dict[str, str] = {
    "notify.Delivery": "a delivery queue's progress (pending, sending, sent, failed): each attempt claims the "
                       "row by a conditional update on its attempt count, and the row is the delivery's own log",
    "regions.RosterImport": "a background job's progress (queued, running, done, failed): the task claims it "
                            "once by a conditional update; the import's result and errors are its record",
    "cases.CasePhoto": "`stage` says which moment a photo shows (reported, resolved); it never changes",
    "django_tasks_database.DBTaskResult": "the task library's own queue",
}
