"""The demo logins: one account per persona of DOMAIN.md, with posts in 西邵村 and above."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission

from hemei.accounts.models import User
from hemei.core.audit import audit_record
from hemei.core.models import AuditEntry
from hemei.regions import services
from hemei.regions.demo.data import DEMO_ACTOR, LINKS_SINCE, POSTS_SINCE, XISHAO_CODE, XISHAO_GRIDS
from hemei.regions.demo.people import PeopleFactory
from hemei.regions.demo.plan import TownshipPlan
from hemei.regions.demo.rows import XishaoHousehold
from hemei.regions.models import HouseholdLink, Post, Region, Resident, Role

# Roles of the 两委 (party branch and village committee): they link households ("一网四联").
CADRE_ROLES = frozenset({Role.SECRETARY, Role.DIRECTOR, Role.GRID_LEADER})
CADRE_LINKS_EACH = 15
# What the county administrator may do in the Django admin: configuration only (household
# types, the region tree to look at, posts). The admin's lists are not scoped by county, so
# households, residents and the audit log stay in the workbench, where scope applies.
# Posts are not edited in the Django admin by county staff: its forms are not scoped (only
# superusers may change posts there).
STAFF_PERMISSIONS = ("view_tag", "add_tag", "change_tag")


@dataclass(frozen=True)
class Persona:
    username: str
    persona: str
    role: str | None  # None: no post (the superuser)
    where: str  # "county", "township", "village", "grid1" …
    reveal: bool = False
    staff: bool = False
    superuser: bool = False


PERSONAS: list[Persona] = [
    Persona("villager", "villager 村民", Role.VILLAGER, "village"),
    Persona("grid1", "grid worker 网格员", Role.GRID_WORKER, "grid1"),
    Persona("grid2", "grid worker 网格员", Role.GRID_WORKER, "grid2"),
    # "1+5+N": five 两委 members lead the five grids of 西邵村.
    *[
        Persona(f"leader{i}", "grid leader 网格长 (两委)", Role.GRID_LEADER, f"grid{i}")
        for i in range(1, XISHAO_GRIDS + 1)
    ],
    Persona("secretary", "village secretary 村支书", Role.SECRETARY, "village", reveal=True),
    Persona("director", "village committee director 村委会主任", Role.DIRECTOR, "village"),
    Persona("supervisor", "supervision committee 村务监督委员会", Role.SUPERVISION, "village"),
    Persona("accountant", "village accountant 村会计", Role.ACCOUNTANT, "village"),
    Persona("shop", "points shop keeper 积分超市管理员", Role.SHOP_KEEPER, "village"),
    Persona("care", "care worker 养老服务人员", Role.CARE_WORKER, "village"),
    # Leads 西邵村's 智慧康养服务中心 (hemei.care.demo): a call nobody takes on reaches them.
    Persona("carelead", "care-centre lead 康养中心负责人", Role.CARE_WORKER, "village"),
    Persona("township", "township staff 乡镇干部", Role.TOWNSHIP_STAFF, "township"),
    Persona("dispatcher", "county dispatcher 县级调度中心", Role.COUNTY_DISPATCHER, "county"),
    Persona(
        "county",
        "county administrator 县管理员",
        Role.COUNTY_ADMIN,
        "county",
        reveal=True,
        staff=True,
    ),
    Persona("city", "city staff 市级干部", Role.CITY_STAFF, "city"),
    Persona("province", "province staff 省级干部", Role.PROVINCE_STAFF, "province"),
    Persona("admin", "superuser (Django admin)", None, "county", staff=True, superuser=True),
]


@dataclass
class DemoLogin:
    username: str
    persona: str
    role: str
    region: str
    sees: str
    phone: str = ""


def create_personas(
    *,
    county: Region,
    plan: list[TownshipPlan],
    xishao: list[XishaoHousehold],
    password: str,
    rng: random.Random,
) -> tuple[list[DemoLogin], int]:
    """Create the demo accounts and posts, and the 两委 members' household links.

    1. The villager is the first household head of grid 1 aged 30–60 with a phone; the
       account's phone is the resident's, so phone login works.
    2. Every account gets the same password, so it is hashed once and the hash shared
       (PBKDF2 costs about half a second per hash; eighteen would dominate a small build).
       An account name that already exists (e.g. an operator's `admin`) is kept as it is.
    3. Posts go through `post_assign` (audited); secretary and county may reveal data; the
       county administrator may configure tags and posts in the Django admin.
    4. The 两委 members link the vulnerable households first, fifteen each.
    Returns the logins and the number of links made.
    """
    township = next(t for t in plan if any(v.code == XISHAO_CODE for v in t.villages))
    village = next(v for v in township.villages if v.code == XISHAO_CODE)
    codes = [county.code, township.code, village.code, *(g.code for g in village.grids)]
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
    where = {
        "county": regions[county.code],
        "township": regions[township.code],
        "village": regions[village.code],
    }
    for i, grid in enumerate(village.grids, start=1):
        where[f"grid{i}"] = regions[grid.code]
    county_row = regions[county.code]
    where["city"] = county_row.get_parent()
    where["province"] = where["city"].get_parent()
    per_grid = {i: sum(1 for h in xishao if h.grid == i) for i in range(1, len(village.grids) + 1)}
    home = next(h for h in xishao if h.grid == 1 and h.head_phone and 30 <= h.head_age <= 60)
    hashed = make_password(password)
    reveal = Permission.objects.get(codename="reveal_personal_data", content_type__app_label="regions")
    staff_permissions = list(
        Permission.objects.filter(codename__in=STAFF_PERMISSIONS, content_type__app_label="regions")
    )
    names = PeopleFactory(rng)
    logins: list[DemoLogin] = []
    cadre_posts: list[Post] = []
    for persona in PERSONAS:
        region = where[persona.where]
        is_villager = persona.role == Role.VILLAGER
        sex = "M" if rng.random() < 0.7 else "F"
        display = home.head_name if is_villager else names.surname() + names.given(sex, 1975)
        phone = home.head_phone if is_villager else None
        user = User.objects.filter(username=persona.username).first()
        if user is None:
            # As accounts.services.user_create does (audited), with the shared hash.
            user = User.objects.create(
                username=persona.username,
                password=hashed,
                display_name=display,
                phone=phone,
                is_staff=persona.staff,
                is_superuser=persona.superuser,
            )
            audit_record(
                actor=DEMO_ACTOR,
                action=AuditEntry.Action.CREATE,
                obj=user,
                changes={
                    "username": [None, user.username],
                    "phone": [None, "***" if phone else None],
                },
            )
        if persona.reveal:
            user.user_permissions.add(reveal)
        if persona.staff and not persona.superuser:
            user.user_permissions.add(*staff_permissions)
        if persona.role is not None:
            resident = Resident.objects.get(pk=home.head_pk) if is_villager else None
            post = services.post_assign(
                user=user,
                region=region,
                role=persona.role,
                resident=resident,
                started_on=POSTS_SINCE,
                actor=DEMO_ACTOR,
            )
            if persona.role in CADRE_ROLES:
                cadre_posts.append(post)
        logins.append(
            DemoLogin(
                username=persona.username,
                persona=persona.persona,
                role=persona.role or "superuser",
                region=f"{region.name} {region.code}",
                sees=_sees(persona, region, home, per_grid),
                phone=phone or "",
            )
        )
    ordered = sorted(xishao, key=lambda h: (not h.vulnerable, h.pk))
    links = [
        HouseholdLink(
            household_id=h.pk,
            kind=HouseholdLink.Kind.CADRE,
            post=cadre_posts[i % len(cadre_posts)],
            since=LINKS_SINCE,
        )
        for i, h in enumerate(ordered[: CADRE_LINKS_EACH * len(cadre_posts)])
    ]
    HouseholdLink.objects.bulk_create(links)
    return logins, len(links)


def _sees(persona: Persona, region: Region, home: XishaoHousehold, per_grid: dict[int, int]) -> str:
    if persona.superuser:
        return "everything, and the Django admin at /admin/"
    if persona.role == Role.VILLAGER:
        return (
            f"own household {home.number} (head {home.head_name}) in 第一网格 at /me/; "
            f"may sign in with phone {home.head_phone}"
        )
    if persona.where.startswith("grid"):
        return f"only the {per_grid[int(persona.where[4:])]} households of {region.name}"
    extra = "; may reveal full ID numbers and phones (audited)" if persona.reveal else ""
    extra += "; Django admin for tags and posts" if persona.staff else ""
    if persona.where == "village":
        return f"all {sum(per_grid.values())} households of {region.name}{extra}"
    if persona.where == "township":
        return f"every village of {region.name}{extra}"
    if persona.where in ("city", "province"):
        return f"the dashboards of every county of {region.name}, side by side (read only)"
    return f"the whole county {region.name}{extra}"
