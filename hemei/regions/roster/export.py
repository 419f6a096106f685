"""The roster export: a region's living residents in the import template.

An export with revealed values can be edited and imported again unchanged: relations are
written as words the import maps back to the same relation, and neutralised cells lose
their quote on import.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from hemei.core.audit import audit_record
from hemei.core.masking import mask_id_number, mask_phone
from hemei.core.models import AuditEntry
from hemei.core.scope import require_actor
from hemei.core.xlsx import neutralise
from hemei.regions.models import Household, Region, Resident
from hemei.regions.roster.bulk import WRITE_BATCH
from hemei.regions.roster.template import (
    COLUMN_WIDTHS,
    EXPORT_RELATION_WORDS,
    ROSTER_HEADERS,
    SHEET_NAME,
)

R = Resident.Relation


def relation_word(relation: str, sex: str) -> str:
    male, female = EXPORT_RELATION_WORDS.get(relation, ("其他", "其他"))
    return female if sex == Resident.Sex.FEMALE else male


def _roster_rows(region: Region, *, reveal: bool, include_sub: bool) -> Iterable[list[Any]]:
    residents = Resident.objects.filter(status=Resident.Status.LIVING)
    households = Household.objects.all()
    if include_sub:
        residents = residents.filter(region__path__startswith=region.path)
        households = households.filter(region__path__startswith=region.path)
    else:
        residents = residents.filter(region=region)
        households = households.filter(region=region)
    tags: dict[int, list[str]] = {}
    for household_id, name in (
        Household.tags.through.objects.filter(household__in=households.values("pk"))
        .order_by("tag__sort", "tag__name").values_list("household_id", "tag__name")
    ):
        tags.setdefault(household_id, []).append(name)
    head_first = Case(When(relation=R.HEAD, then=Value(0)), default=Value(1),
                      output_field=IntegerField())
    rows = (
        residents.annotate(head_first=head_first)
        .order_by("region__code", "household__number", "head_first", "birth_date", "pk")
        .values_list("household_id", "household__number", "name", "relation", "sex", "id_number",
                     "phone", "region__code", "is_party_member")
    )
    for household_id, number, name, relation, sex, id_number, phone, grid, party in rows.iterator(
        chunk_size=WRITE_BATCH
    ):
        yield [
            number, name, relation_word(relation, sex),
            id_number if reveal else mask_id_number(id_number),
            phone if reveal else mask_phone(phone),
            grid, "、".join(tags.get(household_id, [])), "是" if party else "否",
        ]


def _write_sheet(sheet: Any, rows: Iterable[list[Any]]) -> int:
    for index, header in enumerate(ROSTER_HEADERS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = COLUMN_WIDTHS[header]
    sheet.freeze_panes = "A2"
    sheet.append(list(ROSTER_HEADERS))
    count = 0
    for row in rows:
        sheet.append([neutralise(v) for v in row])
        count += 1
    return count


def roster_export(
    *,
    region: Region,
    reveal: bool,
    actor: Any,
    include_sub: bool = True,
    request: HttpRequest | None = None,
) -> bytes:
    """Write the region's living residents in the import template; returns xlsx bytes.

    ID numbers and phones are masked unless `reveal` (the caller decides from the user's
    permission: scope_for(user).can_reveal, or the operator's --reveal). Every export leaves
    one "export" audit row saying how many rows and whether values were revealed. Text
    cells are neutralised against formula injection. A write-only workbook streams rows,
    so memory stays flat for a whole county.
    """
    require_actor(actor)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAME)
    count = _write_sheet(sheet, _roster_rows(region, reveal=reveal, include_sub=include_sub))
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit_record(
        actor=actor, action=AuditEntry.Action.EXPORT, obj=region,
        object_repr=f"{region.name} ({region.code})", county_code=region.code[:6],
        changes={"what": "roster", "rows": count, "reveal": reveal, "include_sub": include_sub},
        request=request,
    )
    return buffer.getvalue()
