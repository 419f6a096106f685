"""Households, residents, tags and party-member links as plain rows, and their fast insert.

A million households means about 3.7 million residents, 1.2 million links and half a million
tag rows. `bulk_create` compiles every value through the ORM (about 10 µs each, 18 columns a
resident): a 1M county took over a quarter of an hour that way. Here each table gets one
`INSERT … VALUES (%s, …)` whose table and column names come from the model's `_meta`, run
with `executemany` over rows built as lists; the database driver does the rest in C.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.utils import timezone

from hemei.regions.demo.data import (
    LINKS_SINCE,
    REF_DATE,
    VULNERABLE_TAGS,
    XISHAO_CODE,
    XISHAO_PARTY_MEMBERS,
)
from hemei.regions.demo.people import PeopleFactory
from hemei.regions.demo.plan import TownshipPlan, VillagePlan, cn_number
from hemei.regions.models import Household, HouseholdLink, Resident

R = Resident.Relation
S = Resident.Status

HOUSEHOLD_COLUMNS = [
    "id",
    "county_id",
    "region_id",
    "village_id",
    "number",
    "head_id",
    "address",
    "lives_in_village",
]
RESIDENT_COLUMNS = [
    "id",
    "county_id",
    "region_id",
    "household_id",
    "name",
    "name_initials",
    "id_number",
    "id_tail",
    "sex",
    "birth_date",
    "phone",
    "phone_tail",
    "relation",
    "is_party_member",
    "status",
    "status_date",
]
RESIDENT_PARTY = RESIDENT_COLUMNS.index("is_party_member")
LINK_COLUMNS = ["household_id", "kind", "resident_id", "since"]
HOUSEHOLD_TAG_COLUMNS = ["household_id", "tag_id"]
RESIDENT_TAG_COLUMNS = ["resident_id", "tag_id"]

# Share of households carrying each tag (the rest are derived: 独居老人, 留守儿童, 党员户).
HOUSEHOLD_TAG_RATES = (
    ("脱贫户", 0.05),
    ("监测户", 0.015),
    ("低保户", 0.03),
    ("特困户", 0.007),
    ("军属", 0.015),
)


class RowInserter:
    """`INSERT INTO <table> (<columns>) VALUES (%s, …)` for one model, via executemany.

    Columns the caller does not give are filled the way the ORM would: auto_now and
    auto_now_add fields get one timestamp for the whole build, other fields their default,
    so a field added to the model later with a default does not break the demo.
    """

    def __init__(self, model: type[models.Model], columns: Sequence[str]) -> None:
        meta = model._meta
        qn = connection.ops.quote_name
        now = timezone.now()
        extra: list[tuple[str, Any]] = []
        for f in meta.concrete_fields:
            if f.attname in columns or f.primary_key:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = f.get_db_prep_save(now, connection)
            elif f.has_db_default():
                continue  # the database fills it
            else:
                value = f.get_db_prep_save(f.get_default(), connection)
            extra.append((str(f.column), value))
        names = [_column(model, c) for c in columns] + [c for c, _v in extra]
        self.extra = tuple(v for _c, v in extra)
        self.sql = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(n) for n in names)}) "  # noqa: S608 - names from _meta
            f"VALUES ({', '.join(['%s'] * len(names))})"
        )

    def insert(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        extra = self.extra
        params = [(*row, *extra) for row in rows] if extra else rows
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, params)


def _column(model: type[models.Model], attname: str) -> str:
    field = model._meta.get_field(attname)
    if not isinstance(field, models.Field) or field.column is None:
        raise ValueError(f"{model.__name__}.{attname} is not a column")
    return str(field.column)


@dataclass
class Batch:
    """Rows of whole villages. Primary keys of households and residents are assigned up
    front, so a household can name its head and tag and link rows can name their targets
    without reading ids back; foreign keys are checked at commit, so order is free."""

    households: list[list[Any]] = field(default_factory=list)
    residents: list[list[Any]] = field(default_factory=list)
    household_tags: list[tuple[int, int]] = field(default_factory=list)
    resident_tags: list[tuple[int, int]] = field(default_factory=list)
    links: list[tuple[int, str, int, dt.date]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.residents)


class BatchWriter:
    def __init__(self) -> None:
        self.households = RowInserter(Household, HOUSEHOLD_COLUMNS)
        self.residents = RowInserter(Resident, RESIDENT_COLUMNS)
        self.household_tags = RowInserter(Household.tags.through, HOUSEHOLD_TAG_COLUMNS)
        self.resident_tags = RowInserter(Resident.tags.through, RESIDENT_TAG_COLUMNS)
        self.links = RowInserter(HouseholdLink, LINK_COLUMNS)

    def write(self, batch: Batch) -> None:
        self.households.insert(batch.households)
        self.residents.insert(batch.residents)
        self.household_tags.insert(batch.household_tags)
        self.resident_tags.insert(batch.resident_tags)
        self.links.insert(batch.links)


@dataclass
class XishaoHousehold:
    """What the persona step needs to know about each 西邵村 household."""

    pk: int
    grid: int  # 1-based grid index
    number: str
    head_pk: int
    head_name: str
    head_phone: str
    head_age: int
    vulnerable: bool


@dataclass
class Counts:
    townships: int = 0
    villages: int = 0
    grids: int = 0
    households: int = 0
    residents: int = 0
    party_members: int = 0
    links: int = 0


class RowGenerator:
    """Turns the plan into rows, one village at a time, from one seeded RNG."""

    def __init__(
        self,
        *,
        rng: random.Random,
        people: PeopleFactory,
        county_id: int,
        region_ids: Mapping[str, int],
        tag_ids: Mapping[str, int],
        household_base: int,
        resident_base: int,
    ) -> None:
        self.rng = rng
        self.people = people
        self.county_id = county_id
        self.region_ids = region_ids
        self.tag_ids = tag_ids
        self.next_household = household_base + 1
        self.next_resident = resident_base + 1
        self.counts = Counts()
        self.xishao: list[XishaoHousehold] = []

    def village(self, village: VillagePlan, batch: Batch) -> None:
        """Append the households, residents, tags and party-member links of one village.

        1. Each grid gets its share of households, numbered 001 … across the village, each
           with 2–5 members from `PeopleFactory.household`.
        2. Random tags (脱贫户, 低保户 …) and derived ones (独居老人, 留守儿童).
        3. Party members: exactly 63 adults in 西邵村, 3.5–5.5 % of living adults elsewhere;
           each links ("一网四联") 8–12 other households of the village; 党员户 tags follow.
        """
        rng, people, tag_ids, county_id = self.rng, self.people, self.tag_ids, self.county_id
        village_id = self.region_ids[village.code]
        is_xishao = village.code == XISHAO_CODE
        household_ids: list[int] = []
        adults: list[list[Any]] = []
        htags: dict[int, set[str]] = {}
        first_resident = len(batch.residents)
        number = 0
        for grid_index, grid in enumerate(village.grids, start=1):
            grid_id = self.region_ids[grid.code]
            street = f"{village.name}{cn_number(grid_index)}街"
            for k in range(1, grid.households + 1):
                number += 1
                hid = self.next_household
                self.next_household += 1
                household_ids.append(hid)
                members, alone = people.household()
                tags = {name for name, rate in HOUSEHOLD_TAG_RATES if rng.random() < rate}
                if alone:
                    tags.add("独居老人")
                left_children = any(m.status == S.MOVED_OUT and m.relation == R.CHILD for m in members)
                head_pk = 0
                for m in members:
                    rid = self.next_resident
                    self.next_resident += 1
                    id_number, birth = people.id_number(people.birth_date(m.age), m.sex)
                    name = m.surname + people.given(m.sex, birth.year)
                    living = m.status == S.LIVING
                    phone = people.phone() if living and people.wants_phone(m.age) else ""
                    status_date = None if living else REF_DATE - dt.timedelta(days=rng.randint(30, 1000))
                    row: list[Any] = [
                        rid,
                        county_id,
                        grid_id,
                        hid,
                        name,
                        people.initials(name),
                        id_number,
                        id_number[-4:],
                        m.sex,
                        birth,
                        phone,
                        phone[-4:],
                        m.relation,
                        False,
                        m.status,
                        status_date,
                    ]
                    batch.residents.append(row)
                    if living and m.age >= 18:
                        adults.append(row)
                    rtags = []
                    if m.relation == R.HEAD:
                        head_pk = rid
                        if alone:
                            rtags.append("独居老人")
                        if is_xishao:
                            self.xishao.append(
                                XishaoHousehold(
                                    pk=hid,
                                    grid=grid_index,
                                    number=f"{number:03d}",
                                    head_pk=rid,
                                    head_name=name,
                                    head_phone=phone,
                                    head_age=m.age,
                                    vulnerable=bool(tags & VULNERABLE_TAGS),
                                )
                            )
                    if rng.random() < 0.015:
                        rtags.append("残疾人")
                    if m.relation == R.GRANDCHILD and m.age < 16 and living and left_children:
                        rtags.append("留守儿童")
                        tags.add("留守儿童")
                    batch.resident_tags += [(rid, tag_ids[t]) for t in rtags if t in tag_ids]
                batch.households.append(
                    [
                        hid,
                        county_id,
                        grid_id,
                        village_id,
                        f"{number:03d}",
                        head_pk,
                        f"{street}{k}号",
                        rng.random() >= 0.02,
                    ]
                )
                htags[hid] = tags
        wanted = XISHAO_PARTY_MEMBERS if is_xishao else round(len(adults) * rng.uniform(0.035, 0.055))
        if len(adults) < wanted:
            raise RuntimeError(f"{village.name} has too few adults for {wanted} party members")
        party = rng.sample(adults, wanted)
        for row in party:
            row[RESIDENT_PARTY] = True
            own = row[3]
            htags[own].add("党员户")
            others = [h for h in household_ids if h != own]
            for hid in rng.sample(others, min(rng.randint(8, 12), len(others))):
                batch.links.append((hid, HouseholdLink.Kind.PARTY_MEMBER, row[0], LINKS_SINCE))
        for hid, tags in htags.items():
            batch.household_tags += [(hid, tag_ids[t]) for t in sorted(tags) if t in tag_ids]
        counts = self.counts
        counts.villages += 1
        counts.grids += len(village.grids)
        counts.households += village.households
        counts.residents += len(batch.residents) - first_resident
        counts.party_members += wanted


def generate_batches(
    plan: list[TownshipPlan], generator: RowGenerator, batch_residents: int = 40_000
) -> Iterator[Batch]:
    """Yield batches of whole villages with about `batch_residents` residents each."""
    batch = Batch()
    for township in plan:
        for village in township.villages:
            generator.village(village, batch)
            if len(batch) >= batch_residents:
                yield batch
                batch = Batch()
    if batch.households:
        yield batch
