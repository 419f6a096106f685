"""一户一档: the household page as the household's whole file, one section per app.

The 积分制 notice asks for one file per household. Each app that keeps rows about a household
registers a section with `@file_section("name", order=N)` (in its `household_file.py`,
imported from its AppConfig.ready): `fn(user, household) -> FileSection | None`, reading through
the app's own scoped queryset, so a section the user may not read is simply absent. The page and
its printable version render every section with one template (rows of cells, figures on top),
so a new app (eldercare) adds its section without a template of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LIMIT = 50  # rows per section on the page; the app's own list holds the rest


@dataclass(frozen=True)
class Cell:
    text: str
    url: str = ""
    css: str = ""  # "num", "badge badge-late", ...


@dataclass(frozen=True)
class FileSection:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    figures: list[tuple[str, str]] = field(default_factory=list)  # (value, label) shown as kpis
    more_url: str = ""  # the app's full list for this household
    empty: str = ""  # what an empty section says
    order: int = 100


SectionFn = Callable[[Any, Any], "FileSection | None"]
SECTIONS: dict[str, tuple[int, SectionFn]] = {}


def file_section(name: str, *, order: int) -> Callable[[SectionFn], SectionFn]:
    def register(fn: SectionFn) -> SectionFn:
        SECTIONS[name] = (order, fn)
        return fn

    return register


def household_file(user: Any, household: Any) -> list[FileSection]:
    """The sections `user` may read for `household`, in their registered order."""
    out = []
    for _order, fn in sorted(SECTIONS.values(), key=lambda pair: pair[0]):
        section = fn(user, household)
        if section is not None:
            out.append(section)
    return out
