"""Who qualifies for a policy, and why: the rules as data and a pure evaluator.

A policy version's rules are a list of conditions `{"field": ..., "op": ..., "value": ...}`,
all of which must hold (AND). A field is one of a fixed whitelist (`FIELDS`) over what the
register holds: the household (its tags such as 脱贫户/监测户, its 防返贫 monitoring status and
kind, its size, the latest per-capita income estimate of a visit, whether it lives in the
village) and its living members (age on the day of evaluation, sex, relation to the head, tags
such as 残疾人, party membership, where they work and for how many months). A rule with a
member condition is met by a household when the household conditions hold and at least one
living member meets every member condition; the outcome names which members do.

Nothing here reads the database: `evaluate(conditions, facts)` takes plain facts (built in a
fixed number of queries for any number of households by `hemei.policies.selectors`) and
returns each condition with the household's (or member's) value and whether it passed, so a
page, the API, the 明白卡 and the tests all read the same answer. A value the register does
not hold (no income recorded) fails the condition and says "not recorded": a household is never
told it qualifies on a guess.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

NUMBER, BOOL, CHOICE, TAGS = "number", "bool", "choice", "tags"
OPS: Final[dict[str, tuple[str, ...]]] = {
    NUMBER: ("==", "!=", ">=", "<=", ">", "<"),
    BOOL: ("==",),
    CHOICE: ("==", "!=", "in"),
    TAGS: ("has", "not_has"),
}
MAX_CONDITIONS: Final = 20
MAX_NUMBER: Final = Decimal("100000000")

# Monitoring status of a household, as the 防返贫 register (hemei.visits.Monitoring) has it.
MONITORING_CHOICES: Final = {
    "monitored": gettext_lazy("under monitoring"),
    "in_procedure": gettext_lazy("being identified"),
    "removed": gettext_lazy("risk removed"),
    "none": gettext_lazy("not monitored"),
}
WORK_PLACES: Final = {
    "none": gettext_lazy("not working away"),
    "in_county": gettext_lazy("works in the county"),
    "in_province": gettext_lazy("works in the province, outside the county"),
    "out_of_province": gettext_lazy("works in another province"),
}


def _choices(model_choices: Any) -> dict[str, Any]:
    return {value: label for value, label in model_choices}


@dataclass(frozen=True)
class Field:
    name: str
    label: Any
    kind: str
    choices: Mapping[str, Any] = field(default_factory=dict)

    @property
    def member(self) -> bool:
        return self.name.startswith("member.")


def _fields() -> dict[str, Field]:
    from hemei.regions.models import Resident
    from hemei.visits.models import Monitoring

    kinds = {"none": gettext_lazy("not monitored"), **_choices(Monitoring.Kind.choices)}
    rows = [
        Field("household.tags", gettext_lazy("household types"), TAGS),
        Field("household.monitoring", gettext_lazy("return-to-poverty monitoring"), CHOICE, MONITORING_CHOICES),
        Field("household.monitoring_kind", gettext_lazy("kind of monitored household"), CHOICE, kinds),
        Field("household.size", gettext_lazy("members living in the household"), NUMBER),
        Field("household.income_per_capita", gettext_lazy("per-capita yearly income (yuan, latest visit)"), NUMBER),
        Field("household.lives_in_village", gettext_lazy("lives in the village"), BOOL),
        Field("member.age", gettext_lazy("age"), NUMBER),
        Field("member.sex", gettext_lazy("sex"), CHOICE, _choices(Resident.Sex.choices)),
        Field("member.relation", gettext_lazy("relation to head"), CHOICE, _choices(Resident.Relation.choices)),
        Field("member.tags", gettext_lazy("member types"), TAGS),
        Field("member.party_member", gettext_lazy("party member"), BOOL),
        Field("member.work_place", gettext_lazy("where the member works"), CHOICE, WORK_PLACES),
        Field("member.months_away", gettext_lazy("months working away"), NUMBER),
    ]
    return {f.name: f for f in rows}


_FIELDS: dict[str, Field] | None = None


def fields() -> dict[str, Field]:
    """The whitelist of fields a condition may name (built once: labels stay lazy)."""
    global _FIELDS
    if _FIELDS is None:
        _FIELDS = _fields()
    return _FIELDS


# --- validation of a rule definition -------------------------------------------------------


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number) <= MAX_NUMBER else None


def validate_conditions(conditions: Any) -> list[dict[str, Any]]:
    """The rule definition in its stored form, or a ValidationError naming every problem
    (condition by condition, numbered from 1). A definition is a non-empty list of at most 20
    conditions, each exactly {field, op, value}; the field is on the whitelist, the operator
    fits the field's kind, the value is of the field's kind (a number, true/false, one of the
    field's choices — a list of them for "in" — or a tag name)."""
    if not isinstance(conditions, list) or not conditions:
        raise ValidationError(_("A policy's rules are a non-empty list of conditions."), code="rules")
    if len(conditions) > MAX_CONDITIONS:
        raise ValidationError(_("A policy has at most %(n)d conditions.") % {"n": MAX_CONDITIONS}, code="rules")
    known = fields()
    errors: list[str] = []
    cleaned: list[dict[str, Any]] = []
    for i, cond in enumerate(conditions, start=1):
        where = _("Condition %(n)d") % {"n": i}
        if not isinstance(cond, dict) or set(cond) != {"field", "op", "value"}:
            errors.append(_("%(where)s: give exactly a field, an operator and a value.") % {"where": where})
            continue
        name, op, value = cond["field"], cond["op"], cond["value"]
        spec = known.get(name) if isinstance(name, str) else None
        if spec is None:
            errors.append(_("%(where)s: unknown field %(field)s.") % {"where": where, "field": str(name)[:40]})
            continue
        if op not in OPS[spec.kind]:
            errors.append(_("%(where)s: %(field)s takes the operators %(ops)s.")
                          % {"where": where, "field": spec.label, "ops": " ".join(OPS[spec.kind])})
            continue
        problem, stored = _check_value(spec, op, value)
        if problem:
            errors.append(f"{where}: {problem}")
            continue
        cleaned.append({"field": name, "op": op, "value": stored})
    if errors:
        raise ValidationError(errors, code="rules")
    return cleaned


def _check_value(spec: Field, op: str, value: Any) -> tuple[str, Any]:
    """(problem, the value as stored): numbers as numbers, tags trimmed."""
    if spec.kind == NUMBER:
        number = _number(value)
        if number is None:
            return _("%(field)s needs a number.") % {"field": spec.label}, None
        return "", int(number) if number == number.to_integral_value() else float(number)
    if spec.kind == BOOL:
        if not isinstance(value, bool):
            return _("%(field)s needs true or false.") % {"field": spec.label}, None
        return "", value
    if spec.kind == CHOICE:
        values = value if op == "in" else [value]
        if op == "in" and (not isinstance(value, list) or not value):
            return _("%(field)s: \"in\" needs a list of choices.") % {"field": spec.label}, None
        bad = [v for v in values if not isinstance(v, str) or v not in spec.choices]
        if bad:
            return _("%(field)s is one of %(choices)s.") % {"field": spec.label,
                                                            "choices": ", ".join(spec.choices)}, None
        return "", list(values) if op == "in" else value
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > 30:
        return _("%(field)s needs a tag name (at most 30 characters).") % {"field": spec.label}, None
    return "", text


# --- the facts of a household ----------------------------------------------------------------


@dataclass(frozen=True)
class MemberFacts:
    id: int
    name: str
    age: int
    sex: str
    relation: str
    tags: frozenset[str] = frozenset()
    party_member: bool = False
    work_place: str = "none"
    months_away: int | None = None


@dataclass(frozen=True)
class HouseholdFacts:
    id: int
    tags: frozenset[str] = frozenset()
    monitoring: str = "none"
    monitoring_kind: str = "none"
    income_per_capita: Decimal | None = None
    lives_in_village: bool = True
    members: tuple[MemberFacts, ...] = ()

    @property
    def size(self) -> int:
        return len(self.members)


def age_on(birth: dt.date, on: dt.date) -> int:
    """Whole years on the day: someone born 1946-03-01 is 80 on 2026-03-01, 79 the day before."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def months_between(start: dt.date, on: dt.date) -> int:
    """Whole months from `start` to `on` (0 before a month is complete; never negative)."""
    months = (on.year - start.year) * 12 + on.month - start.month - (on.day < start.day)
    return max(0, months)


def _value(spec: Field, subject: HouseholdFacts | MemberFacts) -> Any:
    return getattr(subject, spec.name.split(".", 1)[1])


# --- evaluation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One condition against one household's (or member's) value. The words (label, expected,
    actual) are made when read: a list that weighs thousands of households shows fifty."""

    spec: Field
    op: str
    wanted: Any
    found: Any
    passed: bool

    @property
    def field(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def label(self) -> str:
        return str(self.spec.label)

    @property
    def expected(self) -> str:
        return _show(self.spec, self.wanted)

    @property
    def actual(self) -> str:
        return _show(self.spec, self.found)

    @property
    def text(self) -> str:
        if _says_it_all(self.kind, self.op):
            return _("%(label)s: %(actual)s (the rule asks: %(expected)s)") % {
                "label": self.label, "actual": self.actual, "expected": self.expected}
        return _("%(label)s: %(actual)s (the rule asks: %(op)s %(expected)s)") % {
            "label": self.label, "actual": self.actual, "op": op_words(self.op), "expected": self.expected}


@dataclass(frozen=True)
class MemberOutcome:
    member: MemberFacts
    checks: tuple[Check, ...]

    @property
    def qualifies(self) -> bool:
        return all(c.passed for c in self.checks)


@dataclass(frozen=True)
class Outcome:
    """A household against one rule set: the household's checks, each living member's (for
    rules with member conditions), and the answer."""

    checks: tuple[Check, ...]
    members: tuple[MemberOutcome, ...] = ()
    per_member: bool = False

    @property
    def household_ok(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def qualifying_members(self) -> list[MemberFacts]:
        return [m.member for m in self.members if m.qualifies] if self.household_ok else []

    @property
    def qualifies(self) -> bool:
        if not self.household_ok:
            return False
        return bool(self.qualifying_members) if self.per_member else True


def _says_it_all(kind: str, op: str) -> bool:
    """A yes/no field under "==": the value alone is the rule ("在村居住：是（条件：是）", not "是 是")."""
    return kind == BOOL and op == "=="


_OP_WORDS: Final = {
    "==": gettext_noop("is"), "!=": gettext_noop("is not"), ">=": gettext_noop("at least"),
    "<=": gettext_noop("at most"), ">": gettext_noop("more than"), "<": gettext_noop("less than"),
    "in": gettext_noop("one of"), "has": gettext_noop("includes"), "not_has": gettext_noop("does not include"),
}


def op_words(op: str) -> str:
    return _(_OP_WORDS[op])  # one lookup, not nine: a list explains dozens of conditions


def _show(spec: Field, value: Any) -> str:
    if value is None:
        return _("not recorded")
    if spec.kind == BOOL:
        return _("yes") if value else _("no")
    if spec.kind == CHOICE:
        if isinstance(value, list):
            return "、".join(str(spec.choices.get(v, v)) for v in value)
        return str(spec.choices.get(value, value))
    if spec.kind == TAGS:
        if isinstance(value, str):
            return value
        return "、".join(sorted(value)) if value else _("none")
    number = Decimal(str(value))
    return str(number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize())


def _passes(spec: Field, op: str, expected: Any, actual: Any) -> bool:
    if actual is None:
        return False
    if spec.kind == TAGS:
        return (expected in actual) == (op == "has")
    if spec.kind == NUMBER:
        a, e = Decimal(str(actual)), Decimal(str(expected))
        return {"==": a == e, "!=": a != e, ">=": a >= e, "<=": a <= e, ">": a > e, "<": a < e}[op]
    if op == "in":
        return actual in expected
    return (actual == expected) == (op == "==")


def check(condition: Mapping[str, Any], subject: HouseholdFacts | MemberFacts) -> Check:
    spec = fields()[condition["field"]]
    actual = _value(spec, subject)
    return Check(spec=spec, op=condition["op"], wanted=condition["value"], found=actual,
                 passed=_passes(spec, condition["op"], condition["value"], actual))


def evaluate(conditions: Sequence[Mapping[str, Any]], facts: HouseholdFacts) -> Outcome:
    """The household against the conditions (already validated): every condition is checked
    and explained, also after one has failed, so the page can say everything that is missing."""
    known = fields()
    household = [c for c in conditions if not known[c["field"]].member]
    member = [c for c in conditions if known[c["field"]].member]
    checks = tuple(check(c, facts) for c in household)
    if not member:
        return Outcome(checks)
    members = tuple(MemberOutcome(m, tuple(check(c, m) for c in member)) for m in facts.members)
    return Outcome(checks, members, per_member=True)


_Test = tuple[Field, str, Any]  # a condition as `_passes` takes it: the field, its operator, its value


def _split(conditions: Sequence[Mapping[str, Any]]) -> tuple[list[_Test], list[_Test]]:
    """The household conditions and the member conditions."""
    known = fields()
    household: list[_Test] = []
    member: list[_Test] = []
    for c in conditions:
        spec = known[c["field"]]
        (member if spec.member else household).append((spec, c["op"], c["value"]))
    return household, member


def is_per_member(conditions: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the rule names a member condition: then it is met per person, one application each."""
    return bool(_split(conditions)[1])


def qualifies(conditions: Sequence[Mapping[str, Any]], facts: HouseholdFacts) -> bool:
    """`evaluate(conditions, facts).qualifies` without the explanation: the same `_passes` per
    condition, stopping at the first that fails (a list weighing hundreds of households explains
    only the ones that qualify)."""
    household, member = _split(conditions)
    if not all(_passes(spec, op, value, _value(spec, facts)) for spec, op, value in household):
        return False
    if not member:
        return True
    return any(all(_passes(spec, op, value, _value(spec, m)) for spec, op, value in member) for m in facts.members)


def qualifying_members(conditions: Sequence[Mapping[str, Any]], facts: HouseholdFacts) -> list[MemberFacts]:
    """`evaluate(conditions, facts).qualifying_members` without the explanation: the members
    meeting every member condition of a household that meets the household conditions."""
    household, member = _split(conditions)
    if not member or not all(_passes(spec, op, value, _value(spec, facts)) for spec, op, value in household):
        return []
    return [m for m in facts.members if all(_passes(spec, op, value, _value(spec, m)) for spec, op, value in member)]


def describe(conditions: Sequence[Mapping[str, Any]]) -> list[str]:
    """The rules in words, for the policy page and the card: "年龄 不小于 80"."""
    known = fields()
    out = []
    for c in conditions:
        spec = known.get(c["field"])
        if spec is None:
            continue
        who = _("a member's") + " " if spec.member else ""
        op = "" if _says_it_all(spec.kind, c["op"]) else f"{op_words(c['op'])} "
        out.append(f"{who}{spec.label} {op}{_show(spec, c['value'])}")
    return out
