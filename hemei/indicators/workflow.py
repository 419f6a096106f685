"""The life of a village's period report: entered → submitted → approved by the township →
(superseded when a correction is approved). An approved report is locked: a correction is a
new version that goes through the same steps."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hemei.core.scope import may
from hemei.core.workflow import Move, Workflow, register
from hemei.indicators.access import APPROVE_ROLES, ENTRY_ROLES
from hemei.indicators.models import Report, ReportEvent

S = Report.Status


def _enters(actor: Any, report: Report) -> bool:
    return may(actor, ENTRY_ROLES, report.village)


def _approves(actor: Any, report: Report) -> bool:
    return may(actor, APPROVE_ROLES, report.village)


REPORT = register(Workflow(
    name="indicators.report",
    model=Report,
    field="status",
    states=S,
    initial=S.DRAFT,
    event=ReportEvent,
    subject="report",
    moves=(
        Move("submitted", (S.DRAFT,), S.SUBMITTED, "village committee or accountant", _enters,
             sets=("submitted_at",)),
        Move("returned", (S.SUBMITTED,), S.DRAFT, "township staff (with a reason)", _approves),
        Move("approved", (S.SUBMITTED,), S.APPROVED, "township staff", _approves, sets=("approved_at",)),
        Move("superseded", (S.APPROVED,), S.SUPERSEDED, "the approval of its correction", _approves),
    ),
    conflict=_("Someone else changed this report meanwhile; reload the page."),
    doc="A village's month of entered figures (千万工程 and the other entered data elements).",
))
