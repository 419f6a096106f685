"""Shared fixtures: a small county with the personas of the foundation issue.

晋源区 (140110) › 姚村镇 › 西邵村 with grids A and B, plus 东邵村 in the same township and a
second township, so every scope boundary (grid, village, township) can be crossed in tests.
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Permission

from hemei.accounts.models import User
from hemei.accounts.services import user_create
from hemei.core.idnumbers import make_id_number
from hemei.core.scope import SYSTEM
from hemei.regions import services
from hemei.regions.models import Household, Region, Resident, Role

PASSWORD = "Hemei-test-2026"
REQUIRE_ALL = os.environ.get("HEMEI_REQUIRE_ALL") == "1"


def require(condition: bool, reason: str) -> None:
    """Skip when a real part is missing on a laptop; fail under HEMEI_REQUIRE_ALL=1 (CI)."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required but missing: {reason}")
    pytest.skip(reason)


_seq = itertools.count()


def new_id(birth: dt.date | None = None, *, male: bool = True) -> str:
    """A fresh checksum-valid number; unique within the test process (sequence cycles, the
    birth date moves on a day every 400 numbers so the pool never runs out)."""
    while True:
        n = next(_seq)
        seq = 100 + n % 800
        if (seq % 2 == 1) != male:
            continue
        day = birth or dt.date(1970, 5, 6) + dt.timedelta(days=n // 800)
        return make_id_number("140110", day, seq)


@dataclass
class World:
    county: Region
    township: Region
    township2: Region
    village: Region
    village2: Region
    grid_a: Region
    grid_b: Region
    grid_c: Region  # in village2
    house_a: Household
    house_b: Household
    house_c: Household
    head_a: Resident
    head_b: Resident
    head_c: Resident
    users: dict[str, User]

    def user(self, persona: str) -> User:
        return self.users[persona]


def make_user(username: str, *, region: Region | None, role: str | None, resident: Resident | None = None,
              phone: str | None = None) -> User:
    user = user_create(actor=SYSTEM, username=username, password=PASSWORD, phone=phone, validate=False)
    if region is not None and role is not None:
        services.post_assign(actor=SYSTEM, user=user, region=region, role=role, resident=resident)
    return user


def build_world() -> World:
    county = services.region_create(actor=SYSTEM, name="晋源区", level="county", code="140110")
    township = services.region_create(actor=SYSTEM, name="姚村镇", level="township", code="140110101", parent=county)
    township2 = services.region_create(actor=SYSTEM, name="晋源街道", level="township", code="140110001", parent=county)
    village = services.region_create(actor=SYSTEM, name="西邵村", level="village", code="140110101201", parent=township)
    village2 = services.region_create(actor=SYSTEM,
                                      name="东邵村", level="village", code="140110101202", parent=township)
    grid_a = services.region_create(actor=SYSTEM, name="第一网格", level="grid", code="140110101201001", parent=village)
    grid_b = services.region_create(actor=SYSTEM, name="第二网格", level="grid", code="140110101201002", parent=village)
    grid_c = services.region_create(actor=SYSTEM,
                                    name="第一网格", level="grid", code="140110101202001", parent=village2)
    # Re-read: treebeard's add_child leaves stale numchild on the in-memory parents.
    county, township, village, village2 = (Region.objects.get(pk=r.pk) for r in (county, township, village, village2))
    house_a = services.household_create(actor=SYSTEM, grid=grid_a, number="001", address="西邵村一街1号")
    house_b = services.household_create(actor=SYSTEM, grid=grid_b, number="101", address="西邵村二街1号")
    house_c = services.household_create(actor=SYSTEM, grid=grid_c, number="001", address="东邵村1号")
    head_a = services.resident_create(actor=SYSTEM, household=house_a, name="王建国", id_number=new_id(),
                                      phone="13800001111", relation="head", is_party_member=True)
    services.resident_create(actor=SYSTEM, household=house_a, name="李秀英", id_number=new_id(male=False),
                             phone="13800002222", relation="spouse")
    head_b = services.resident_create(actor=SYSTEM, household=house_b, name="张志强", id_number=new_id(),
                                      phone="13900003333", relation="head")
    head_c = services.resident_create(actor=SYSTEM, household=house_c, name="刘德华", id_number=new_id(),
                                      phone="13700004444", relation="head")
    users = {
        "villager": make_user("villager", region=village, role=Role.VILLAGER, resident=head_a, phone="13800001111"),
        "grid_a": make_user("grid1", region=grid_a, role=Role.GRID_WORKER),
        "grid_b": make_user("grid2", region=grid_b, role=Role.GRID_WORKER),
        "secretary": make_user("secretary", region=village, role=Role.SECRETARY),
        "township": make_user("township", region=township, role=Role.TOWNSHIP_STAFF),
        "county": make_user("county", region=county, role=Role.COUNTY_ADMIN),
        "shop": make_user("shop", region=village, role=Role.SHOP_KEEPER),
        "outsider": make_user("outsider", region=None, role=None),
    }
    reveal = Permission.objects.get(codename="reveal_personal_data")
    users["secretary"].user_permissions.add(reveal)
    users["county"].user_permissions.add(reveal)
    return World(county, township, township2, village, village2, grid_a, grid_b, grid_c,
                 Household.objects.get(pk=house_a.pk), Household.objects.get(pk=house_b.pk),
                 Household.objects.get(pk=house_c.pk), head_a, head_b, head_c, users)


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


@pytest.fixture
def login(client: Any) -> Any:
    """login("grid_a") → a Django test client signed in as that persona."""

    def _login(user: User) -> Any:
        client.force_login(user)
        return client

    return _login


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    """PBKDF2 costs ~0.3 s a user; tests hash with MD5 (never used outside tests)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the site's language (简体中文): a page requested in English by an
    earlier test leaves English active in the worker's thread (LocaleMiddleware activates it
    for the request and nothing deactivates it), and texts built outside a request would then
    depend on which tests ran before on the same worker."""
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings: Any) -> None:
    """The suite's thousands of requests from one address are not an attack: rate limits are
    off, except in tests/test_throttle.py, which turns them on with the real default rates."""
    settings.HEMEI_RATES_ENABLED = False


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Cached figures (the region tree) must not leak from one test's data into the next."""
    from django.core.cache import cache

    cache.clear()


def _postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    return os.environ.get("HEMEI_TEST_POSTGRES", "")


def pytest_configure(config: Any) -> None:
    """One migrated template per database server for the whole run: every fresh database of
    the run (the test database of each xdist worker on PostgreSQL; each `hemei` child process's
    file or database in benchmarks, backups, the fault suite, the CLI) starts as its copy
    instead of migrating from nothing (hemei.cli.from_template). Set here, in the controller,
    before xdist starts its workers, so that every worker and child inherits the same names;
    the first process that needs a template builds it."""
    if hasattr(config, "workerinput"):
        return
    if "HEMEI_SQLITE_TEMPLATE" not in os.environ:
        import tempfile

        folder = tempfile.mkdtemp(prefix="hemei-template-")
        os.environ["HEMEI_SQLITE_TEMPLATE"] = os.path.join(folder, "migrated.sqlite3")
        config._hemei_template_dir = folder
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")) and \
            "HEMEI_PG_TEMPLATE" not in os.environ:
        # Built now, before the workers ask Django for their test databases (TEST TEMPLATE in
        # settings): one migration from nothing for the pass instead of one per worker.
        template = f"hemei_template_{os.getpid()}"
        _build_pg_template(template)
        os.environ["HEMEI_PG_TEMPLATE"] = template
        config._hemei_pg_template = template
        from django.conf import settings

        if settings.configured:  # without xdist this process's settings were read already
            settings.DATABASES["default"].setdefault("TEST", {})["TEMPLATE"] = template


def _pg_admin() -> Any:
    import dj_database_url
    import psycopg

    from hemei.cli import pg_admin_conninfo

    return psycopg.connect(pg_admin_conninfo(dict(dj_database_url.parse(_postgres_url()))), autocommit=True)


def _build_pg_template(template: str) -> None:
    """Migrate a scratch database in a child process (this one has not set Django up);
    hemei.cli.from_template copies it as `template`."""
    import subprocess
    import sys

    from psycopg import sql

    scratch = f"{template}_build"
    with _pg_admin() as admin:
        for name in (template, scratch):
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
    base = _postgres_url().rsplit("/", 1)[0]
    env = {**os.environ, "DATABASE_URL": f"{base}/{scratch}", "HEMEI_PG_TEMPLATE": template,
           "DJANGO_SETTINGS_MODULE": "hemei.settings"}
    try:
        script = "import django; django.setup(); from hemei.cli import migrate; migrate()"
        subprocess.run([sys.executable, "-c", script], env=env, check=True,
                       cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    finally:
        with _pg_admin() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))


def pytest_unconfigure(config: Any) -> None:
    folder = getattr(config, "_hemei_template_dir", None)
    if folder:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop("HEMEI_SQLITE_TEMPLATE", None)
    template = getattr(config, "_hemei_pg_template", None)
    if template:
        from psycopg import sql

        with _pg_admin() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(template)))
        os.environ.pop("HEMEI_PG_TEMPLATE", None)


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Tests marked postgres_only (row locks between threads, DB-level delete guards) are
    deselected, not skipped, when the suite runs on SQLite, and tests marked sqlite_only
    (SQLite's own triggers) when it runs on PostgreSQL: the other pass of `make test` runs
    them, and a skip would fail CI under HEMEI_REQUIRE_ALL=1."""
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    other = "sqlite_only" if on_postgres else "postgres_only"
    keep = [item for item in items if item.get_closest_marker(other) is None]
    if on_postgres:
        # A test that never opens the database (parsing, masking, templates, docs) gives the
        # same answer on both passes: it runs once, in the SQLite pass (CI time).
        keep = [item for item in keep if _uses_database(item)]
    kept = set(map(id, keep))
    dropped = [item for item in items if id(item) not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


_DB_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback",
                          "live_server", "django_db_setup"})


def _uses_database(item: Any) -> bool:
    if item.get_closest_marker("django_db") or item.get_closest_marker("postgres_only"):
        return True
    return bool(_DB_FIXTURES.intersection(getattr(item, "fixturenames", ())))


SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> dt.datetime:
    """A moment in Beijing time (deadlines are counted in local working days)."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.fixture
def migration_seeds(db: Any) -> None:
    """The seeds of the calendar (2026 holidays) and case-category migrations, re-applied
    idempotently: a transactional test elsewhere in the same worker flushes migration rows."""
    for module in ("hemei.core.migrations.0004_calendar_2026", "hemei.cases.migrations.0002_default_categories",
                   "hemei.cases.migrations.0010_unpublished_complaint_category",
                   "hemei.cases.migrations.0011_public_facility_categories"):
        importlib.import_module(module).forwards(django_apps, None)
