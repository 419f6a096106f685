"""专精特新 (specialised, refined, distinctive, innovative SME) eligibility self-check.

The rules are data, versioned by year (`RULESETS`): each rule is a policy text and a list of
conditions over a company's figures, all of which (`all`) or any of which (`any`) must hold.
The code only knows how to compare (`>=`, `<=`, "given", "yes"); a new year's rules are a new
entry, not new logic. `evaluate()` answers, rule by rule, whether it passed and why, naming
the company's own figure beside the threshold. Nothing is stored: a self-check holds no
personal data and changes nothing.

The 2026 rules follow seed 003 (the province's 2026 notice): a 科技型中小企业 number or an
创新型中小企业 certificate first; three years in the niche; revenue ≥ 1,500万 or ≥ 2,000万 of
equity financing over the last two years; the main business ≥ 80 % of revenue; a debt ratio
≤ 80 %; R&D ≥ 100万 and ≥ 3 % of revenue in *each* of the last two years (no averaging); at
least one class-I intellectual property right developed by the company itself (bought ones do
not count).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Figures a company enters (amounts in 万元, shares in %), with the label each explanation uses.
FIELDS: dict[str, Any] = {
    "tech_sme_number": gettext_lazy("科技型中小企业 registration number"),
    "innovative_certificate": gettext_lazy("创新型中小企业 certificate"),
    "years_in_niche": gettext_lazy("years in the niche market"),
    "revenue": gettext_lazy("revenue last year (万元)"),
    "equity_financing": gettext_lazy("equity financing over the last two years (万元)"),
    "main_business_share": gettext_lazy("main business share of revenue (%)"),
    "debt_ratio": gettext_lazy("debt-to-asset ratio (%)"),
    "rd_last": gettext_lazy("R&D spending last year (万元)"),
    "rd_before": gettext_lazy("R&D spending the year before (万元)"),
    "revenue_before": gettext_lazy("revenue the year before (万元)"),
    "rd_share_last": gettext_lazy("R&D share of revenue last year (%)"),
    "rd_share_before": gettext_lazy("R&D share of revenue the year before (%)"),
    "own_ip_class1": gettext_lazy("class-I IP rights developed in-house"),
}


@dataclass(frozen=True)
class Condition:
    field: str
    op: str  # ">=", "<=", "given" (a non-empty text), "yes"
    value: Decimal | None = None


@dataclass(frozen=True)
class Rule:
    code: str
    text: str  # the policy's own words (Chinese, as published)
    conditions: tuple[Condition, ...]
    combine: str = "all"  # "all" or "any"


@dataclass(frozen=True)
class RuleSet:
    year: int
    title: str
    source: str
    rules: tuple[Rule, ...]


def _c(field: str, op: str, value: str | None = None) -> Condition:
    return Condition(field, op, Decimal(value) if value is not None else None)


RULESETS: dict[int, RuleSet] = {
    2026: RuleSet(
        year=2026,
        title="2026年专精特新中小企业认定条件",
        source="省工信厅2026年专精特新中小企业认定通知",  # seed 003; the public page shows it
        rules=(
            Rule("prerequisite", "前提：已入库科技型中小企业（有入库编号）或已获评创新型中小企业",
                 (_c("tech_sme_number", "given"), _c("innovative_certificate", "yes")), combine="any"),
            Rule("niche_years", "从事特定细分市场时间达到3年以上", (_c("years_in_niche", ">=", "3"),)),
            Rule("scale", "上年度营业收入不低于1500万元，或近2年新增股权融资总额不低于2000万元",
                 (_c("revenue", ">=", "1500"), _c("equity_financing", ">=", "2000")), combine="any"),
            Rule("main_business", "主营业务收入占营业收入比重不低于80%", (_c("main_business_share", ">=", "80"),)),
            Rule("debt", "资产负债率不高于80%", (_c("debt_ratio", "<=", "80"),)),
            Rule("rd", "近2年每年研发费用不低于100万元且占营业收入比重不低于3%（逐年计算，不取平均）",
                 (_c("rd_last", ">=", "100"), _c("rd_before", ">=", "100"), _c("rd_share_last", ">=", "3"),
                  _c("rd_share_before", ">=", "3"))),
            Rule("ip", "拥有1项以上自主研发的Ⅰ类知识产权（受让、购买的不计）", (_c("own_ip_class1", ">=", "1"),)),
        ),
    ),
}


def ruleset(year: int) -> RuleSet:
    """The rules of `year` (KeyError for a year without rules)."""
    return RULESETS[year]


@dataclass
class ConditionResult:
    condition: Condition
    label: str
    actual: Any
    passed: bool

    @property
    def explanation(self) -> str:
        c = self.condition
        if c.op == "given":
            return _("%(label)s: given") % {"label": self.label} if self.passed else \
                _("%(label)s: not given") % {"label": self.label}
        if c.op == "yes":
            return _("%(label)s: yes") % {"label": self.label} if self.passed else \
                _("%(label)s: no") % {"label": self.label}
        words = {">=": _("at least"), "<=": _("at most")}[c.op]
        return _("%(label)s is %(actual)s; the rule asks %(op)s %(value)s") % {
            "label": self.label, "actual": _number(self.actual), "op": words, "value": _number(c.value)}


@dataclass
class RuleResult:
    rule: Rule
    passed: bool
    conditions: list[ConditionResult]
    note: str = ""  # what the company entered that the rule does not count, in words


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01')).normalize():f}"
    return str(value)


def derived(facts: dict[str, Any]) -> dict[str, Any]:
    """The figures a rule compares, from what the company entered: the R&D shares are worked
    out per year from that year's R&D and revenue (no averaging across the two years)."""
    values = dict(facts)

    def share(part: str, whole: str) -> Decimal | None:
        top, bottom = facts.get(part), facts.get(whole)
        if top is None or not bottom:
            return None
        return Decimal(top) * 100 / Decimal(bottom)

    values["rd_share_last"] = share("rd_last", "revenue")
    values["rd_share_before"] = share("rd_before", "revenue_before")
    return values


def _holds(c: Condition, actual: Any) -> bool:
    if c.op == "given":
        return bool(str(actual or "").strip())
    if c.op == "yes":
        return actual is True
    if actual is None or c.value is None:
        return False
    return Decimal(actual) >= c.value if c.op == ">=" else Decimal(actual) <= c.value


def evaluate(rules: RuleSet, facts: dict[str, Any]) -> list[RuleResult]:
    """Each rule of the set, passed or failed, with every condition explained."""
    values = derived(facts)
    results = []
    for rule in rules.rules:
        checked = [ConditionResult(c, str(FIELDS[c.field]), values.get(c.field), _holds(c, values.get(c.field)))
                   for c in rule.conditions]
        passed = (all if rule.combine == "all" else any)(r.passed for r in checked)
        results.append(RuleResult(rule, passed, checked, _not_counted(rule, values)))
    return results


def _not_counted(rule: Rule, values: dict[str, Any]) -> str:
    """The IP rule counts only rights developed in-house: say so when bought ones were entered."""
    bought = values.get("bought_ip_class1") or 0
    if rule.code == "ip" and bought:
        return _("%(n)s class-I IP rights bought or transferred in are not counted.") % {"n": bought}
    return ""
