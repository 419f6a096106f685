"""Department lists (部门预警) of households to monitor, imported from xlsx: all or nothing.

Columns (Chinese headers, any order): 村编码, 户号, 监测类型 (optional), 风险类型 (optional, several
separated by 、 or ,), 预警部门, 情况说明 (optional). Every row is checked first; a single bad
row (named with its row, column and value) means nothing is saved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from hemei.core.scope import require_actor
from hemei.core.xlsx import ImportResult, RowError, read_sheet
from hemei.regions.access import access_households
from hemei.regions.models import Household
from hemei.visits.models import Monitoring
from hemei.visits.monitoring import monitoring_enter, open_monitoring

COL_VILLAGE = "村编码"
COL_NUMBER = "户号"
COL_KIND = "监测类型"
COL_RISKS = "风险类型"
COL_DEPARTMENT = "预警部门"
COL_DETAIL = "情况说明"
HEADERS = (COL_VILLAGE, COL_NUMBER, COL_KIND, COL_RISKS, COL_DEPARTMENT, COL_DETAIL)
REQUIRED = (COL_VILLAGE, COL_NUMBER, COL_DEPARTMENT)
MAX_ROWS = 5000
KIND_WORDS = {
    "脱贫不稳定户": Monitoring.Kind.UNSTABLE,
    "边缘易致贫户": Monitoring.Kind.EDGE,
    "突发严重困难户": Monitoring.Kind.SUDDEN,
    **{k: k for k in Monitoring.Kind.values},
}
RISK_WORDS = {
    "因病": "illness",
    "因学": "schooling",
    "因残": "disability",
    "因灾": "disaster",
    "因意外": "accident",
    "因产业失败": "business",
    "因务工就业不稳": "employment",
    "缺劳动力": "labour",
    "其他": "other",
    **{k: k for k in Monitoring.Risk.values},
}
SPLIT = re.compile(r"[,，、;；/\s]+")


@dataclass
class _Row:
    row: int
    household: Household
    kind: str
    risks: list[str]
    department: str
    detail: str


def _cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def import_department_list(*, actor: Any, data: bytes) -> ImportResult:
    """1. read and check every row (scope: the household must be in the actor's write area);
    2. if any row is bad, report all and save nothing; 3. else enter all in one transaction."""
    require_actor(actor)
    result = ImportResult()
    sheet = read_sheet(data, required=REQUIRED, headers=HEADERS, max_rows=MAX_ROWS)
    if isinstance(sheet, RowError):
        result.errors.append(sheet)
        return result
    households = access_households(actor, write=True).select_related("region", "village")
    good: list[_Row] = []
    seen: set[int] = set()
    for number, raw in sheet.records():
        cells = {h: _cell(v) for h, v in raw.items()}
        result.rows += 1
        errors: list[RowError] = []
        for h in REQUIRED:
            if not cells[h]:
                errors.append(RowError(number, h, "", _("Required.")))
        household = None
        if cells[COL_VILLAGE] and cells[COL_NUMBER]:
            household = households.filter(village__code=cells[COL_VILLAGE], number=cells[COL_NUMBER]).first()
            if household is None:
                errors.append(RowError(number, COL_NUMBER, cells[COL_NUMBER], _("No such household in your area.")))
            elif household.pk in seen:
                errors.append(RowError(number, COL_NUMBER, cells[COL_NUMBER], _("The household is listed twice.")))
            elif open_monitoring(household) is not None:
                errors.append(
                    RowError(
                        number,
                        COL_NUMBER,
                        cells[COL_NUMBER],
                        _("This household is already under monitoring or in the procedure."),
                    )
                )
        kind = ""
        if cells.get(COL_KIND):
            kind = KIND_WORDS.get(cells[COL_KIND], "")
            if not kind:
                errors.append(RowError(number, COL_KIND, cells[COL_KIND], _("Unknown kind.")))
        risks: list[str] = []
        for word in SPLIT.split(cells.get(COL_RISKS, "")):
            if not word:
                continue
            if word not in RISK_WORDS:
                errors.append(RowError(number, COL_RISKS, word, _("Unknown risk type.")))
            else:
                risks.append(RISK_WORDS[word])
        if len(cells[COL_DEPARTMENT]) > 100:
            errors.append(RowError(number, COL_DEPARTMENT, cells[COL_DEPARTMENT][:30], _("Too long.")))
        if errors or household is None:
            result.errors.extend(errors)
            continue
        seen.add(household.pk)
        good.append(_Row(number, household, kind, risks, cells[COL_DEPARTMENT], cells.get(COL_DETAIL, "")[:2000]))
    if not result.rows and not result.errors:
        result.errors.append(RowError(0, "", "", _("The sheet has no rows.")))
    if result.errors:
        return result
    try:
        with transaction.atomic():
            for row in good:
                monitoring_enter(
                    actor=actor,
                    household=row.household,
                    source=Monitoring.Source.DEPARTMENT,
                    kind=row.kind,
                    risks=row.risks,
                    department=row.department,
                    detail=row.detail,
                )
    except ValidationError as exc:
        result.errors.append(RowError(0, "", "", " ".join(exc.messages)))
        return result
    result.ok = True
    result.created = len(good)
    return result
