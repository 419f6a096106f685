"""The party organisation of the conftest world, built through the services.

西邵村党支部 (at the village) with 第一党小组 (grid A) and 第二党小组 (grid B); members 王建国
(grid A, the `villager` persona) and 赵红梅 (grid B, with her own villager login); 东邵村党支部
with 刘德华 (his own login); 张志强 (grid B) has a login but is no party member; 东邵村's
secretary `secretary2`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hemei.core.scope import SYSTEM
from hemei.party import services
from hemei.party.models import Branch, Member
from hemei.regions import services as regions
from hemei.regions.models import Resident, Role
from tests.conftest import World, make_user, new_id

JOINED = dt.date(2026, 1, 5)


@dataclass
class Party:
    branch: Branch
    group_a: Branch
    group_b: Branch
    branch2: Branch
    wang: Member  # grid A, user "villager"
    zhao: Member  # grid B, user "zhao"
    liu: Member  # 东邵村, user "liu"
    users: dict[str, Any]


def build_party(world: World) -> Party:
    branch = services.branch_create(actor=SYSTEM, region=world.village, kind="branch", name="西邵村党支部",
                                    secretary_name="王支书", founded_on=dt.date(2020, 1, 1))
    group_a = services.branch_create(actor=SYSTEM, region=world.grid_a, kind="group", name="第一党小组",
                                     parent=branch, founded_on=dt.date(2020, 1, 1))
    group_b = services.branch_create(actor=SYSTEM, region=world.grid_b, kind="group", name="第二党小组",
                                     parent=branch, founded_on=dt.date(2020, 1, 1))
    branch2 = services.branch_create(actor=SYSTEM, region=world.village2, kind="branch", name="东邵村党支部",
                                     founded_on=dt.date(2020, 1, 1))
    zhao_resident = regions.resident_create(actor=SYSTEM, household=world.house_b, name="赵红梅",
                                            id_number=new_id(male=False), phone="13900005555", relation="spouse",
                                            is_party_member=True)
    wang = services.member_add(actor=SYSTEM, branch=branch, resident=world.head_a, joined_party_on=dt.date(1998, 7, 1),
                               group=group_a, on=JOINED)
    zhao = services.member_add(actor=SYSTEM, branch=branch, resident=zhao_resident,
                               joined_party_on=dt.date(2025, 6, 1), standing="probationary", group=group_b, on=JOINED)
    liu = services.member_add(actor=SYSTEM, branch=branch2, resident=world.head_c, joined_party_on=dt.date(2001, 7, 1),
                              on=JOINED)
    users = {
        "villager": world.user("villager"),
        "zhao": make_user("zhao", region=world.village, role=Role.VILLAGER, resident=zhao_resident),
        "liu": make_user("liu", region=world.village2, role=Role.VILLAGER, resident=world.head_c),
        "nonmember": make_user("zhang", region=world.village, role=Role.VILLAGER, resident=world.head_b),
        "secretary2": make_user("secretary2", region=world.village2, role=Role.SECRETARY),
    }
    return Party(branch, group_a, group_b, branch2, wang, zhao, liu, users)


def held_session(branch: Branch, kind: str, at: dt.datetime, *, hours: str = "2.0", title: str = "学习") -> Any:
    session = services.session_plan(actor=SYSTEM, branch=branch, kind=kind, title=title, planned_at=at, hours=hours)
    return services.session_open(actor=SYSTEM, session=session, at=at)


def resident(pk: int) -> Resident:
    return Resident.objects.get(pk=pk)
