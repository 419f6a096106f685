"""Every dashboard chart's data as xlsx: the same rows the chart draws, with numerators and
denominators beside each value so a clerk can check the sums. Text cells are neutralised;
every export leaves an "export" audit row."""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook

from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.core.xlsx import neutralise
from hemei.dashboards.figures import Dashboard, Figure

CHARTS = ("children", "trend", "programmes", "key", "map")


def _fig(f: Figure) -> list[Any]:
    return [None if f.value is None else float(f.value), float(f.numerator),
            None if f.denominator is None else float(f.denominator)]


def rows_for(chart: str, board: Dashboard, features: dict[str, Any] | None = None) -> tuple[list[str], list[list[Any]]]:
    ind = board.indicator
    value_headers = [f"{ind.name} ({ind.unit})" if ind.unit else str(ind.name), _("numerator"), _("denominator")]
    if chart == "trend":
        return [_("period"), *value_headers], [[p.label, *_fig(f)] for p, f in board.trend]
    if chart == "programmes":
        return ([_("programme"), _("villages"), _("done"), _("under way"), _("not started"), _("not reported")],
                [[p["name"], p["villages"], p["done"], p["started"], p["not_started"], p["not_reported"]]
                 for p in board.programmes])
    if chart == "key":
        return ([_("indicator"), _("unit"), _("value"), _("previous period"), _("numerator"), _("denominator")],
                [[str(f.indicator.name), str(f.indicator.unit), *_fig(f)[:1],
                  None if f.previous is None else float(f.previous), *_fig(f)[1:]] for f in board.key])
    if chart == "map" and features is not None:
        return ([_("code"), _("village"), "lat", "lng", value_headers[0]],
                [[v["code"], v["name"], v["lat"], v["lng"], v["value"]] for v in features["villages"]])
    return [_("code"), _("region"), *value_headers], [[r.code, r.name, *_fig(f)] for r, f in board.children]


def workbook(chart: str, board: Dashboard, *, actor: Any, features: dict[str, Any] | None = None) -> bytes:
    headers, rows = rows_for(chart, board, features)
    book = Workbook()
    sheet = book.active
    sheet.title = chart
    sheet.append([neutralise(f"{board.region.name} {board.region.code}"), neutralise(board.period.label)])
    sheet.append([neutralise(h) for h in headers])
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, obj=board.region,
                 changes={"chart": chart, "period": board.period.code, "indicator": board.indicator.code,
                          "rows": len(rows)})
    return out.getvalue()
