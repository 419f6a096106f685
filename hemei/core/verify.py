"""Invariants that `hemei verify` checks. Each check returns a list of problems (empty = ok).

Checks are registered in CHECKS; later apps (points ledger chains, disclosure chains) add
their own with `@invariant`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.db import connection
from django.db.models import Count, F, Q

from hemei.core.idnumbers import IdNumberError, parse_id_number

Check = Callable[[], list[str]]
CHECKS: dict[str, Check] = {}
LIMIT = 20  # problems listed per check; the count is always complete


NOTICES: dict[str, Check] = {}


def notice(name: str) -> Callable[[Check], Check]:
    """Register a check whose findings are printed but do not make `hemei verify` fail."""

    def register(fn: Check) -> Check:
        NOTICES[name] = fn
        return fn

    return register


def invariant(name: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn

    return register


def _ids(qs: object, n: int = 10) -> str:
    return ", ".join(str(pk) for pk in list(qs.values_list("pk", flat=True)[:n]))  # type: ignore[attr-defined]


@invariant("region-tree")
def check_region_tree() -> list[str]:
    from hemei.regions.models import Region

    names = ["bad characters", "bad step length", "orphans", "wrong depth", "wrong child count"]
    problems = Region.objects.find_problems()
    return [f"{name}: regions {ids[:LIMIT]}" for name, ids in zip(names, problems, strict=True) if ids]


@invariant("region-codes")
def check_region_codes() -> list[str]:
    from hemei.regions.models import CODE_LENGTH, LEVEL_ORDER, Level, Region

    problems = []
    by_path = {r.path: r for r in Region.objects.only("path", "code", "level", "depth")}
    for region in by_path.values():
        if len(region.code) != CODE_LENGTH[Level(region.level)]:
            problems.append(f"{region.code}: wrong length for level {region.level}")
        parent = by_path.get(region.path[: -Region.steplen]) if region.depth > 1 else None
        if parent is not None:
            if not region.code.startswith(parent.code):
                problems.append(f"{region.code}: does not extend parent code {parent.code}")
            if LEVEL_ORDER.index(Level(region.level)) <= LEVEL_ORDER.index(Level(parent.level)):
                problems.append(f"{region.code}: level {region.level} not below parent {parent.level}")
    return problems


@invariant("household-places")
def check_household_places() -> list[str]:
    from hemei.regions.models import Household

    problems = []
    wrong_village = Household.objects.exclude(region__code__startswith=F("village__code"))
    if wrong_village.exists():
        problems.append(f"{wrong_village.count()} households with a grid outside their village: {_ids(wrong_village)}")
    wrong_county = Household.objects.exclude(region__code__startswith=F("county__code"))
    if wrong_county.exists():
        problems.append(f"{wrong_county.count()} households with a grid outside their county: {_ids(wrong_county)}")
    bad_head = Household.objects.filter(head__isnull=False).exclude(head__household=F("pk"))
    if bad_head.exists():
        problems.append(f"{bad_head.count()} households whose head lives elsewhere: {_ids(bad_head)}")
    not_head = Household.objects.filter(head__isnull=False).filter(
        ~Q(head__relation="head") | ~Q(head__status="living")
    )
    if not_head.exists():
        problems.append(f"{not_head.count()} households whose head is not a living 户主: {_ids(not_head)}")
    two_heads = (
        Household.objects.filter(residents__relation="head", residents__status="living")
        .annotate(heads=Count("residents"))
        .filter(heads__gt=1)
    )
    if two_heads.exists():
        problems.append(f"{two_heads.count()} households with more than one 户主: {_ids(two_heads)}")
    return problems


@invariant("resident-places")
def check_resident_places() -> list[str]:
    from hemei.regions.models import Resident

    wrong = Resident.objects.filter(~Q(region=F("household__region")) | ~Q(county=F("household__county")))
    if not wrong.exists():
        return []
    return [f"{wrong.count()} residents whose grid/county differ from their household's: {_ids(wrong)}"]


def _residents() -> Iterator[tuple[int, str, str, object, str]]:
    from hemei.regions.models import Resident

    rows = Resident.objects.values_list("pk", "id_number", "sex", "birth_date", "id_tail")
    yield from rows.iterator(chunk_size=20000)


@invariant("resident-id-numbers")
def check_resident_id_numbers() -> list[str]:
    problems: list[str] = []
    bad = 0
    for pk, number, sex, birth, tail in _residents():
        try:
            parsed = parse_id_number(number)
        except IdNumberError as exc:
            bad += 1
            if len(problems) < LIMIT:
                problems.append(f"resident {pk}: {exc}")
            continue
        if parsed.sex != sex or parsed.birth_date != birth or tail != number[-4:]:
            bad += 1
            if len(problems) < LIMIT:
                problems.append(f"resident {pk}: sex, birth date or tail disagree with the ID number")
    if bad > len(problems):
        problems.append(f"… {bad} residents in all")
    return problems


@invariant("posts")
def check_posts() -> list[str]:
    from hemei.regions.models import Post, Role

    bad = Post.objects.filter(role=Role.VILLAGER, resident__isnull=True)
    wrong_village = Post.objects.filter(role=Role.VILLAGER).exclude(
        resident__region__path__startswith=F("region__path"))
    problems = []
    if bad.exists():
        problems.append(f"villager posts without a resident: {_ids(bad)}")
    if wrong_village.exists():
        problems.append(f"villager posts outside the resident's region: {_ids(wrong_village)}")
    return problems


@invariant("audit-append-only")
def check_audit_guard() -> list[str]:
    """The database triggers that refuse audit updates/deletes must be present."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='core_auditentry'")
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'core_auditentry'::regclass AND NOT tgisinternal"
            )
        else:
            return []
        names = {row[0] for row in cursor.fetchall()}
    return [] if "core_auditentry_no_update" in names else ["audit table has no append-only trigger"]


def run_all() -> dict[str, list[str]]:
    return {name: check() for name, check in CHECKS.items()}


def run_notices() -> dict[str, list[str]]:
    return {name: check() for name, check in NOTICES.items()}


@notice("grid-size")
def check_grid_size() -> list[str]:
    """Grids over the size the rule gives (about 300 households, at most 2,500 people): a notice,
    since splitting a grid is a decision of the village, not an inconsistency."""
    from hemei.regions.selectors import oversized_grids

    return [g.describe() for g in oversized_grids()]


@notice("calendar-current-year")
def check_calendar_year() -> list[str]:
    """Deadlines count working days: without this year's State Council holidays every deadline
    over a festival is wrong. A notice, not a violation: the notice for a year is published
    only weeks before it starts, and nothing stored is inconsistent meanwhile."""
    from django.utils import timezone

    from hemei.core.models import CalendarDay

    year = timezone.localdate().year
    if CalendarDay.objects.filter(date__year=year, county_code="").exists():
        return []
    return [f"no national holidays entered for {year} (admin → working-day calendar; docs/calendar.md)"]
