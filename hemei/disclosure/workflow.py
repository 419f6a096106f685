"""The disclosure workflow as data (`hemei.core.workflow`): a version goes from draft through
the supervision committee's review to publication on the village chain. A published version
never changes; a correction is a new version (`correction_start`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from hemei.core.workflow import Move, Workflow, register
from hemei.disclosure.models import DisclosureEvent, DisclosureVersion

S = DisclosureVersion.Status
K = DisclosureEvent.Kind


def _author(user: Any, version: DisclosureVersion) -> bool:
    from hemei.disclosure import access

    return bool(access.roles_at(user, version.village) & access.AUTHOR_ROLES)


def _reviewer(user: Any, version: DisclosureVersion) -> bool:
    from hemei.disclosure import access

    return access.can_review(user, version, version.village)


def _publisher(user: Any, version: DisclosureVersion) -> bool:
    from hemei.disclosure import access

    return bool(access.roles_at(user, version.village) & access.PUBLISH_ROLES)


REVIEW_SETS = ("reviewed_by", "reviewed_at", "review_comment")

VERSION = register(Workflow(
    name="disclosure.version",
    model=DisclosureVersion,
    field="status",
    states=S,
    initial=S.DRAFT,
    event=DisclosureEvent,
    subject="version",
    refused=_("A %(old)s version cannot become %(new)s."),
    conflict=_("Someone else changed this version meanwhile; reload the page."),
    doc="三务公开: one version of a disclosure, from the author's draft to the public board.",
    moves=(
        Move(K.SUBMITTED, (S.DRAFT, S.RETURNED), S.SUBMITTED, "secretary, director, committee member, accountant",
             _author, sets=("submitted_at", "warnings")),
        Move(K.APPROVED, (S.SUBMITTED,), S.APPROVED, "supervision committee (never the author), township staff",
             _reviewer, sets=REVIEW_SETS),
        Move(K.RETURNED, (S.SUBMITTED,), S.RETURNED, "supervision committee (never the author), township staff",
             _reviewer, sets=REVIEW_SETS),
        Move(K.PUBLISHED, (S.APPROVED,), S.PUBLISHED, "secretary, director", _publisher,
             sets=("sequence", "prev_hash", "hash", "published_at", "published_by"), needs=("sequence", "hash")),
    ),
))
