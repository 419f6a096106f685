"""Free text of a case (title, description, measures) outside its author and handlers.

A villager writes what they like: "my phone is 138…, ID 1401…". The text stays as written for
the people who need it — the author (their household, or whoever entered the case) and the
case's handlers (a write post over its region) — and reaches everyone else masked by the one
detector (`hemei.core.pii`): Open311 GET, lists, the county's read-only view, exports.
"""

from __future__ import annotations

from typing import Any

from hemei.cases.models import Case
from hemei.core.pii import Finding, find_personal_data, redact
from hemei.regions.access import scope_for

TEXT_FIELDS = ("title", "description", "measures", "address_string")


def reads_in_clear(user: Any, case: Case) -> bool:
    """The author and the handlers read the text as written; nobody else does."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if case.created_by_id is not None and case.created_by_id == user.pk:
        return True
    scope = scope_for(user)
    if case.household_id is not None and case.household_id in scope.household_ids:
        return True
    return scope.covers_path(case.region.path, write=True)


def shown(user: Any, case: Case, text: str) -> str:
    """`text` (a field of `case`) as `user` may see it."""
    return text if reads_in_clear(user, case) else redact(text)


def text_findings(*texts: str) -> list[Finding]:
    """What an author is told before submitting (the same detector that masks it later)."""
    return find_personal_data("\n".join(t for t in texts if t))


def for_reader(user: Any, case: Case) -> Case:
    """`case` with its free text masked in memory when `user` is neither author nor handler
    (for a page about to be rendered; never saved)."""
    if not reads_in_clear(user, case):
        for name in TEXT_FIELDS:
            setattr(case, name, redact(getattr(case, name)))
    return case


def masked_fields(user: Any, case: Case, data: dict[str, Any]) -> dict[str, Any]:
    """An API representation of `case` with its free text masked for `user` unless allowed."""
    if not reads_in_clear(user, case):
        for name in TEXT_FIELDS:
            if isinstance(data.get(name), str):
                data[name] = redact(data[name])
    return data
