"""The shape of the demo county: townships, villages, grids and how many households each."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from hemei.regions.demo.data import (
    CN_DIGITS,
    COUNTY,
    MAX_GRID_HOUSEHOLDS,
    NAMED_TOWNSHIPS,
    TOWN_A,
    TOWN_B,
    VILLAGE_A,
    VILLAGE_B,
    VILLAGE_MAX,
    VILLAGE_MIN,
    XISHAO_CODE,
    XISHAO_GRIDS,
    XISHAO_HOUSEHOLDS,
)


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 15 → 十五, 23 → 二十三 (grid names 第一网格 … 第二十三网格)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + ("" if ones == 0 else CN_DIGITS[ones])


@dataclass
class GridPlan:
    code: str
    name: str
    households: int


@dataclass
class VillagePlan:
    code: str
    name: str
    households: int
    grids: list[GridPlan] = field(default_factory=list)


@dataclass
class TownshipPlan:
    code: str
    name: str
    villages: list[VillagePlan] = field(default_factory=list)


def _village_size(rng: random.Random, remaining: int) -> int:
    """A village of 150–600 households that never leaves a remainder below 150."""
    size = rng.randint(VILLAGE_MIN, VILLAGE_MAX)
    if remaining - size < VILLAGE_MIN:
        size = remaining if remaining <= VILLAGE_MAX else remaining - VILLAGE_MIN
    return size


def _split_grids(rng: random.Random, village: VillagePlan, count: int | None = None) -> None:
    """Split a village into grids of at most 300 households (2–5 grids for most villages)."""
    total = village.households
    if count is None:
        count = max(math.ceil(total / MAX_GRID_HOUSEHOLDS), rng.randint(2, 5))
    count = max(1, min(count, total))
    base, extra = divmod(total, count)
    village.grids = [
        GridPlan(
            code=f"{village.code}{i:03d}",
            name=f"第{cn_number(i)}网格",
            households=base + (1 if i <= extra else 0),
        )
        for i in range(1, count + 1)
    ]


def plan_county(rng: random.Random, households: int | None) -> list[TownshipPlan]:
    """Decide the region tree and the size of every village.

    1. Default (households=None): the named townships and villages, each village 150–600
       households, 西邵村 exactly 448.
    2. households=N: 西邵村 first, then the named villages round-robin over the named
       townships (a small county still spans several townships), then generated townships
       of 15–40 villages each until exactly max(N, 448) households are placed.
    3. Every village is split into grids of at most 300 households; 西邵村 into 5.
    """
    county = COUNTY[0]
    townships = {code: TownshipPlan(code=f"{county}{code}", name=name) for code, name, _villages in NAMED_TOWNSHIPS}
    named = [
        [(code, f"{county}{code}{201 + i}", vname) for i, vname in enumerate(villages)]
        for code, _name, villages in NAMED_TOWNSHIPS
    ]
    order: list[tuple[str, str, str]] = []
    for rnd in range(max(len(group) for group in named)):
        order += [group[rnd] for group in named if rnd < len(group)]
    if order[0][1] != XISHAO_CODE:
        raise AssertionError("西邵村 must be the first named village")
    remaining = None if households is None else max(households, XISHAO_HOUSEHOLDS)
    for tcode, vcode, vname in order:
        if vcode == XISHAO_CODE:
            size = XISHAO_HOUSEHOLDS
        elif remaining is None:
            size = rng.randint(VILLAGE_MIN, VILLAGE_MAX)
        elif remaining <= 0:
            break
        else:
            size = _village_size(rng, remaining)
        if remaining is not None:
            remaining -= size
        townships[tcode].villages.append(VillagePlan(code=vcode, name=vname, households=size))
    if remaining:
        _generated_townships(rng, townships, remaining)
    result = sorted((t for t in townships.values() if t.villages), key=lambda t: t.code)
    for township in result:
        for village in township.villages:
            _split_grids(rng, village, XISHAO_GRIDS if village.code == XISHAO_CODE else None)
    return result


def _generated_townships(rng: random.Random, townships: dict[str, TownshipPlan], remaining: int) -> None:
    """Townships 104, 105 … with synthetic names, 15–40 villages each (codes 201 …)."""
    county = COUNTY[0]
    used = {name for _code, name, _villages in NAMED_TOWNSHIPS}
    town_names = [f"{a}{b}镇" for a in TOWN_A for b in TOWN_B if f"{a}{b}镇" not in used]
    rng.shuffle(town_names)
    village_names = [f"{a}{b}" + ("" if b.endswith("村") else "村") for a in VILLAGE_A for b in VILLAGE_B]
    next_code = 104
    while remaining > 0:
        if next_code > 999 or not town_names:
            raise ValueError("The demo county has room for about 9 million households.")
        tcode = f"{next_code:03d}"
        next_code += 1
        township = townships[tcode] = TownshipPlan(code=f"{county}{tcode}", name=town_names.pop())
        for i, vname in enumerate(rng.sample(village_names, rng.randint(15, 40))):
            if remaining <= 0:
                break
            size = _village_size(rng, remaining)
            remaining -= size
            township.villages.append(VillagePlan(code=f"{county}{tcode}{201 + i}", name=vname, households=size))
