"""Synthetic people: households of 2–5 with plausible relations, names, birth dates,
checksum-valid ID numbers and phones, all drawn from one seeded RNG."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from hemei.core.idnumbers import make_id_number
from hemei.core.text import pinyin_initials
from hemei.regions.demo.data import AREA_CODE, GIVEN_NAMES, PHONE_PREFIXES, REF_DATE, SURNAMES
from hemei.regions.models import Resident

R = Resident.Relation
S = Resident.Status


@dataclass(slots=True)
class Member:
    relation: str
    sex: str
    age: int
    surname: str
    status: str = S.LIVING


class PeopleFactory:
    """Names, birth dates, ID numbers and phones from one seeded RNG.

    ID numbers are unique by construction: the sequence digits count up per birth date and
    sex (odd for men, even for women), skipping numbers already in the database.
    """

    def __init__(self, rng: random.Random, existing_ids: set[str] | None = None) -> None:
        self.rng = rng
        self.surnames = [s for s, _w in SURNAMES]
        self.surname_cum = list(_cumulative([w for _s, w in SURNAMES]))
        self.sequence: dict[tuple[dt.date, str], int] = {}
        self.existing_ids = existing_ids or set()
        self.phones: set[str] = set()
        self._initials: dict[str, str] = {}

    def surname(self) -> str:
        return self.rng.choices(self.surnames, cum_weights=self.surname_cum)[0]

    def given(self, sex: str, birth_year: int) -> str:
        era = "old" if birth_year < 1960 else "mid" if birth_year < 1990 else "young"
        return self.rng.choice(GIVEN_NAMES[(sex, era)])

    def initials(self, name: str) -> str:
        # pypinyin costs ~30 µs a call; names repeat, so a million residents need a few
        # thousand calls.
        cached = self._initials.get(name)
        if cached is None:
            cached = self._initials[name] = pinyin_initials(name)
        return cached

    def birth_date(self, age: int) -> dt.date:
        # Born in the year before REF_DATE minus age: never after 2025-12-31.
        return dt.date(REF_DATE.year - age - 1, 1, 1) + dt.timedelta(days=self.rng.randrange(365))

    def id_number(self, birth: dt.date, sex: str) -> tuple[str, dt.date]:
        """The next free number for this birth date and sex, and the birth date it encodes.

        The 3-digit sequence counts 001, 003 … 999 for men and 002, 004 … 998 for women; when
        a day is full (500 people of one sex) the person moves to the next day, so the
        returned date is the one to store.
        """
        while True:
            key = (birth, sex)
            k = self.sequence.get(key, 0)
            seq = 2 * k + 1 if sex == "M" else 2 * k + 2
            if seq > 999:
                birth += dt.timedelta(days=1)
                continue
            self.sequence[key] = k + 1
            number = make_id_number(AREA_CODE, birth, seq)
            if number not in self.existing_ids:
                return number, birth

    def phone(self) -> str:
        rng = self.rng
        while True:
            phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def wants_phone(self, age: int) -> bool:
        if age < 16:
            return False
        if age <= 70:
            return self.rng.random() < 0.92
        return self.rng.random() < 0.45

    def household(self) -> tuple[list[Member], bool]:
        """Members of one household (2–5, head first) and whether it is an elder living alone.

        Ages keep generations 20–35 years apart; children take the father's surname.
        """
        rng = self.rng
        kind = rng.choices(("young", "middle", "three", "elder"), weights=(22, 38, 25, 15))[0]
        head_sex = "M" if rng.random() < 0.85 else "F"
        head_surname = self.surname()
        other = "F" if head_sex == "M" else "M"
        spouse_surname = self.surname()
        family = head_surname if head_sex == "M" else spouse_surname
        members: list[Member] = []
        alone = False

        def child(age: int) -> Member:
            return Member(R.CHILD, rng.choice("MF"), max(age, 0), family)

        if kind == "young":
            age = rng.randint(24, 39)
            members.append(Member(R.HEAD, head_sex, age, head_surname))
            if rng.random() < 0.9:
                members.append(Member(R.SPOUSE, other, max(20, age + rng.randint(-3, 3)), spouse_surname))
            for _ in range(rng.choice((0, 1, 1, 2, 2)) if age >= 24 else 0):
                members.append(child(rng.randint(0, age - 22)))
        elif kind == "middle":
            age = rng.randint(40, 59)
            members.append(Member(R.HEAD, head_sex, age, head_surname))
            if rng.random() < 0.92:
                members.append(Member(R.SPOUSE, other, age + rng.randint(-4, 3), spouse_surname))
            for _ in range(rng.choice((1, 1, 2, 2, 3))):
                members.append(child(rng.randint(age - 35, age - 22)))
            if rng.random() < 0.35:
                parent_sex = rng.choice("MF")
                # The head's father shares the head's surname; the mother keeps her own.
                members.append(
                    Member(
                        R.PARENT,
                        parent_sex,
                        min(age + rng.randint(22, 34), 98),
                        head_surname if parent_sex == "M" else self.surname(),
                    )
                )
        elif kind == "three":
            age = rng.randint(50, 69)
            members.append(Member(R.HEAD, head_sex, age, head_surname))
            if rng.random() < 0.85:
                members.append(Member(R.SPOUSE, other, age + rng.randint(-4, 3), spouse_surname))
            son = Member(
                R.CHILD,
                "M" if rng.random() < 0.75 else "F",
                rng.randint(age - 30, age - 22),
                family,
            )
            members.append(son)
            if rng.random() < 0.7:
                members.append(
                    Member(
                        R.CHILD_IN_LAW,
                        "F" if son.sex == "M" else "M",
                        son.age + rng.randint(-3, 3),
                        self.surname(),
                    )
                )
            grand_surname = son.surname if son.sex == "M" else self.surname()
            for _ in range(rng.choice((1, 1, 2))):
                members.append(
                    Member(
                        R.GRANDCHILD,
                        rng.choice("MF"),
                        rng.randint(0, max(son.age - 21, 0)),
                        grand_surname,
                    )
                )
            if rng.random() < 0.15:  # the young couple works in the city: 留守 grandchildren
                for m in members:
                    if m.relation in (R.CHILD, R.CHILD_IN_LAW):
                        m.status = S.MOVED_OUT
        else:  # elder
            age = rng.randint(65, 88)
            members.append(Member(R.HEAD, head_sex, age, head_surname))
            spouse = rng.random() < 0.6
            if spouse:
                members.append(Member(R.SPOUSE, other, age + rng.randint(-4, 3), spouse_surname))
            if rng.random() < 0.5 or not spouse:
                members.append(child(rng.randint(age - 35, age - 22)))
            if rng.random() < 0.35:
                # 独居老人: the spouse has died and the children work away from home.
                alone = True
                for m in members[1:]:
                    m.status = S.DECEASED if m.relation == R.SPOUSE else S.MOVED_OUT
        members = members[:5]
        if len(members) < 2:
            members.append(child(members[0].age - rng.randint(22, 30)))
        if not alone:
            for m in members[1:]:
                if m.status != S.LIVING:
                    continue
                r = rng.random()
                if 18 <= m.age <= 50 and r < 0.04:
                    m.status = S.MOVED_OUT
                elif m.age >= 75 and r < 0.03:
                    m.status = S.DECEASED
        return members, alone


def _cumulative(weights: list[int]) -> Iterator[int]:
    total = 0
    for w in weights:
        total += w
        yield total
