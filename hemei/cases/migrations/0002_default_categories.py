"""Seed the default case catalogue (issue 3) with 12345-practice time limits.

Limits by kind: consultation 2 working days; help and suggestion 10; complaint 15; urgent
accept within 2 clock hours and resolve within 24. Every kind but urgent is accepted by the end
of the same working day (accept_hours blank). Idempotent: rows already present are left as
the county administrators edited them.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

LIMITS: dict[str, dict[str, int | None]] = {
    "consultation": {"accept_hours": None, "resolve_working_days": 2, "resolve_hours": None},
    "help": {"accept_hours": None, "resolve_working_days": 10, "resolve_hours": None},
    "suggestion": {"accept_hours": None, "resolve_working_days": 10, "resolve_hours": None},
    "complaint": {"accept_hours": None, "resolve_working_days": 15, "resolve_hours": None},
    "urgent": {"accept_hours": 2, "resolve_working_days": None, "resolve_hours": 24},
}

DEFAULTS = [
    # Litter, sewage, toilets: someone must come and do something → a request for help.
    ("环境卫生", "help"),
    # Potholes, broken street lights, blocked village roads: repair work → help.
    ("道路交通", "help"),
    # A cut-off water supply or a cold house in a northern winter cannot wait two weeks → urgent.
    ("供水供暖", "urgent"),
    # Neighbour, family and land disputes: one party complains about another; mediation takes
    # the longest limit → complaint.
    ("矛盾纠纷", "complaint"),
    # Public-security hazards can turn into harm overnight → urgent.
    ("治安隐患", "urgent"),
    # Fire hazards (stacked straw, bad wiring) likewise → urgent.
    ("消防隐患", "urgent"),
    # Food safety reports are complaints against a seller, handled by market supervision → complaint.
    ("食品安全", "complaint"),
    # Care for an elder (meals, visits, subsidies) is help asked for → help.
    ("养老服务", "help"),
    # Questions about policies only need an answer → consultation (2 working days).
    ("政策咨询", "consultation"),
    # Anything else starts as a suggestion (10 working days) until a clerk re-files it.
    ("其他", "suggestion"),
]


def forwards(apps: Any, schema_editor: Any) -> None:
    Category = apps.get_model("cases", "Category")
    for sort, (name, kind) in enumerate(DEFAULTS, start=1):
        if not Category.objects.filter(county__isnull=True, name=name).exists():
            Category.objects.create(name=name, kind=kind, sort=sort, active=True, **LIMITS[kind])


def backwards(apps: Any, schema_editor: Any) -> None:
    Category = apps.get_model("cases", "Category")
    Category.objects.filter(county__isnull=True, name__in=[n for n, _k in DEFAULTS], cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
