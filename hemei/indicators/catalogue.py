"""The indicator catalogue: data elements, indicators and the 千万工程 programmes, as data.

Like the workflow tables, the catalogue lives in code (reviewed, versioned, the same on every
install) and the definitions page renders it. DHIS2's vocabulary:

- a **data element** is one number per place and period: entered on the village's period
  form (or imported from Excel or JSON), or computed from Hemei's own records by a function
  registered in `hemei.indicators.sources`. Its `aggregation` says how a quarter or a year is
  made from months for entered elements: `sum` (flows) or `last` (stocks and cumulative
  progress: the latest month reported). Going *up the region tree* is always a sum.
- an **indicator** is `numerator ÷ denominator × factor`, each side a data element. A region's
  value is its summed numerator over its summed denominator, never a mean of its villages'
  percentages (a village of 20 households must not weigh as much as one of 600).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Source(StrEnum):
    ENTERED = "entered"  # the village's period form, Excel or the JSON API
    COMPUTED = "computed"  # from Hemei's own records (hemei.indicators.sources)


class Aggregation(StrEnum):
    SUM = "sum"
    LAST = "last"


@dataclass(frozen=True)
class DataElement:
    code: str
    name: Promise | str
    unit: Promise | str = ""
    source: Source = Source.COMPUTED
    aggregation: Aggregation = Aggregation.SUM
    programme: str = ""
    # Validation of the entry form: this element may not exceed that one (numerator ≤ denominator).
    not_above: str = ""
    integer: bool = True
    doc: Promise | str = ""


class Direction(StrEnum):
    UP = "up"  # higher is better
    DOWN = "down"  # lower is better


@dataclass(frozen=True)
class Indicator:
    code: str
    name: Promise | str
    numerator: str
    denominator: str = ""  # blank: the numerator itself (× factor)
    factor: Decimal = Decimal(1)
    unit: Promise | str = ""
    target: Decimal | None = None
    direction: Direction = Direction.UP
    group: str = "governance"
    doc: Promise | str = ""
    decimals: int = 1

    def value(self, numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
        """numerator ÷ denominator × factor; None when the denominator is zero or missing."""
        if numerator is None:
            numerator = Decimal(0)
        if not self.denominator:
            return (numerator * self.factor).quantize(Decimal(10) ** -self.decimals)
        if not denominator:
            return None
        return (numerator / denominator * self.factor).quantize(Decimal(10) ** -self.decimals)

    def meets(self, value: Decimal | None) -> bool | None:
        if value is None or self.target is None:
            return None
        return value >= self.target if self.direction == Direction.UP else value <= self.target

    @property
    def elements(self) -> tuple[str, ...]:
        return (self.numerator, self.denominator) if self.denominator else (self.numerator,)


@dataclass(frozen=True)
class Programme:
    """A 千万工程 programme: per village a status (elements `<code>.started`, `<code>.done`)
    and quantities. `modes` replace the plain "done" by a choice of how it was done (sewage:
    piped, trucked, moved), each its own 0/1 element that also counts as done."""

    code: str
    name: Promise | str
    quantities: tuple[str, ...]
    modes: tuple[str, ...] = ()


E = DataElement
H = _("households")
ELEMENTS_LIST: list[DataElement] = [
    # --- the register and reporting ---------------------------------------------------------
    E("households", _("Households"), H, doc=_("Households in the register. The register keeps no "
      "history of counts, so each month keeps the figure it had while the month was open.")),
    E("villages", _("Villages"), _("villages"), doc=_("1 for each village: the denominator of "
      "reporting completeness.")),
    E("reports.approved", _("Villages with an approved report"), _("villages"),
      doc=_("1 for a village whose period form of the month has been approved by the township.")),
    # --- cases --------------------------------------------------------------------------------
    E("cases.submitted", _("Cases submitted"), _("cases"), doc=_("Cases counted in the month they were submitted.")),
    E("cases.finished", _("Cases finished"), _("cases"),
      doc=_("Resolved or closed, of the cases submitted in the period.")),
    E("cases.on_time", _("Cases finished on time"), _("cases"), doc=_("Finished with no deadline ever missed.")),
    E("cases.rated", _("Cases rated"), _("cases"), doc=_("The reporter answered (first answer counts).")),
    E("cases.satisfied", _("Cases rated satisfied"), _("cases"), doc=_("First answer 满意 or 基本满意.")),
    E("cases.open_late", _("Open overdue cases"), _("cases"), doc=_("Open cases past a deadline, as the "
      "month closed (kept as recorded while the month was open).")),
    E("cases.escalated", _("Escalations"), _("cases"),
      doc=_("Cases that climbed a tier, by the month of the escalation.")),
    # --- visits and 防返贫 monitoring --------------------------------------------------------------
    E("visits.households", _("Households visited"), H, doc=_("Distinct households with a visit in the period.")),
    E("monitoring.households", _("Households under monitoring"), H,
      doc=_("防返贫 monitoring open at the end of the period.")),
    E("monitoring.ever", _("Households ever monitored"), H, doc=_("Entered into monitoring by the end of the period.")),
    E("monitoring.removed", _("Households with risk removed"), H, doc=_("Risk removed by the end of the period.")),
    # --- points, stars, courtyards ------------------------------------------------------------
    E("points.households", _("Households with points entries"), H,
      doc=_("Distinct households with an effective points entry for a deed in the period.")),
    E("points.redemptions", _("Redemptions collected"), _("redemptions"),
      doc=_("Points-shop redemptions collected in the period.")),
    E("stars.households", _("Star-rated households"), H,
      doc=_("Households holding at least one star from a round awarded by the end of the period (that year "
            "or the one before).")),
    E("courtyard.households", _("Courtyard plaque households"), H,
      doc=_("Households holding a 美丽庭院 plaque from an awarded review.")),
    # --- disclosure, finance, assets, contracts ------------------------------------------------------
    E("disclosure.due", _("Disclosures due"), _("items"),
      doc=_("Scheduled disclosures whose deadline falls in the period.")),
    E("disclosure.on_time", _("Disclosures published on time"), _("items"),
      doc=_("Of those, published by the deadline.")),
    E("finance.income", _("Collective income"), _("yuan"), integer=False,
      doc=_("Income entries of the village's books dated in the period.")),
    E("assets.put_to_use", _("Idle assets put to use"), _("assets"),
      doc=_("Assets whose status changed from idle to in use, leased, shares or revitalising in the period.")),
    E("assets.idle", _("Idle assets"), _("assets"),
      doc=_("Assets idle now (kept as recorded while the month was open).")),
    E("contracts.overdue", _("Contract payments overdue"), _("payments"),
      doc=_("Scheduled payments due by the end of the period and not fully paid by then.")),
    # --- elderly care: computed once hemei.eldercare registers its source ---------------------------
    E("eldercare.calls", _("Elderly care calls"), _("calls"),
      doc=_("Calls for help from elders; computed once the elderly care app registers its source.")),
    E("eldercare.calls_15min", _("Calls served within 15 minutes"), _("calls"),
      doc=_("Of those, served within 15 minutes; computed once the elderly care app registers its source.")),
]

PROGRAMMES: list[Programme] = [
    Programme("water", _("Safe drinking water"), ("water.pipe_km", "water.households", "water.use_m3",
                                                  "water.baseline_m3")),
    Programme("roads", _("Village roads"), ("roads.area_m2",)),
    Programme("heating", _("Clean heating"), ("heating.households", "heating.households_planned", "heating.stations")),
    Programme("sewage", _("Sewage treatment"), ("sewage.households",), modes=("piped", "trucked", "moved")),
    Programme("toilets", _("Sanitary toilets"), ("toilets.households", "toilets.households_planned")),
    Programme("refuse", _("Refuse collection"), ("refuse.stations",)),
]
MODE_NAMES: dict[str, Promise] = {"piped": _("piped network"), "trucked": _("collected by truck"),
                                  "moved": _("moved with the village")}

_QUANTITIES: list[DataElement] = [
    E("water.pipe_km", _("Water pipe laid"), _("km"), integer=False),
    E("water.households", _("Households on safe water"), H),
    E("water.use_m3", _("Water used in the month"), _("m³"), Source.ENTERED, Aggregation.SUM, integer=False),
    E("water.baseline_m3", _("Water used in the month before leak repair"), _("m³"), Source.ENTERED,
      Aggregation.SUM, integer=False, doc=_("The same month's use before the network was repaired: the baseline.")),
    E("roads.area_m2", _("Road surfaced"), _("m²"), integer=False),
    E("heating.households", _("Households on clean heating"), H, not_above="heating.households_planned"),
    E("heating.households_planned", _("Households planned for clean heating"), H),
    E("heating.stations", _("Heating stations"), _("stations")),
    E("sewage.households", _("Households connected to sewage treatment"), H),
    E("toilets.households", _("Households with a sanitary toilet"), H, not_above="toilets.households_planned"),
    E("toilets.households_planned", _("Households planned for toilet renovation"), H),
    E("refuse.stations", _("Refuse collection points"), pgettext_lazy("places counted", "points")),
]


def _programme_elements() -> list[DataElement]:
    out: list[DataElement] = []
    for p in PROGRAMMES:
        out.append(E(f"{p.code}.started", format_lazy("{}: {}", p.name, _("village started")), _("villages"),
                     Source.ENTERED, Aggregation.LAST, programme=p.code))
        out.append(E(f"{p.code}.done", format_lazy("{}: {}", p.name, _("village done")), _("villages"),
                     Source.ENTERED, Aggregation.LAST, programme=p.code))
        for mode in p.modes:
            out.append(E(f"{p.code}.{mode}", format_lazy("{}: {}", p.name, MODE_NAMES[mode]), _("villages"),
                         Source.ENTERED, Aggregation.LAST,
                         programme=p.code))
    for q in _QUANTITIES:
        out.append(DataElement(q.code, q.name, q.unit, Source.ENTERED,
                               q.aggregation if q.source == Source.ENTERED else Aggregation.LAST,
                               programme=q.code.split(".")[0], not_above=q.not_above, integer=q.integer, doc=q.doc))
    return out


ELEMENTS: dict[str, DataElement] = {e.code: e for e in [*ELEMENTS_LIST, *_programme_elements()]}
ENTERED: list[DataElement] = [e for e in ELEMENTS.values() if e.source == Source.ENTERED]

IND = Indicator
P100 = Decimal(100)
INDICATORS_LIST: list[Indicator] = [
    IND("completeness", _("Reporting completeness"), "reports.approved", "villages", P100, "%", Decimal(100),
      group="reporting", doc=_("Villages whose month's form is approved ÷ villages.")),
    IND("case_on_time", _("Case on-time rate"), "cases.on_time", "cases.finished", P100, "%", Decimal(90)),
    IND("case_satisfaction", _("Satisfaction rate"), "cases.satisfied", "cases.rated", P100, "%", Decimal(90)),
    IND("case_overdue_per100", _("Open overdue cases per 100 households"), "cases.open_late", "households", P100,
      "", Decimal("0.5"), Direction.DOWN, decimals=2),
    IND("case_escalations_per100", _("Escalations per 100 households"), "cases.escalated", "households", P100,
      "", Decimal("0.5"), Direction.DOWN, decimals=2),
    IND("cases", _("Cases submitted"), "cases.submitted", unit=_("cases"), direction=Direction.DOWN, decimals=0),
    IND("visit_coverage", _("Visit coverage"), "visits.households", "households", P100, "%", Decimal(30),
      group="households"),
    IND("monitoring_households", _("Households under 防返贫 monitoring"), "monitoring.households", unit=H,
      direction=Direction.DOWN, group="households", decimals=0),
    IND("monitoring_progress", _("防返贫 monitoring: risk removed"), "monitoring.removed", "monitoring.ever", P100, "%",
      Decimal(80), group="households"),
    IND("points_participation", _("Points participation"), "points.households", "households", P100, "%", Decimal(60),
      group="households"),
    IND("points_redemptions", _("Points-shop redemptions"), "points.redemptions", unit=_("redemptions"),
      group="households", decimals=0),
    IND("star_coverage", _("Star-rated household coverage"), "stars.households", "households", P100, "%", Decimal(80),
      group="households"),
    IND("courtyard_coverage", _("美丽庭院 coverage"), "courtyard.households", "households", P100, "%", Decimal(20),
      group="households"),
    IND("disclosure_timeliness", _("Disclosure timeliness"), "disclosure.on_time", "disclosure.due", P100, "%",
      Decimal(100), group="economy"),
    IND("collective_income", _("Collective income"), "finance.income", factor=Decimal("0.0001"), unit=_("10k yuan"),
      group="economy", decimals=2),
    IND("idle_put_to_use", _("Idle assets put to use"), "assets.put_to_use", unit=_("assets"), group="economy",
      decimals=0),
    IND("idle_assets", _("Idle assets"), "assets.idle", unit=_("assets"), direction=Direction.DOWN, group="economy",
      decimals=0),
    IND("contract_overdue", _("Contract payments overdue"), "contracts.overdue", unit=_("payments"), target=Decimal(0),
      direction=Direction.DOWN, group="economy", decimals=0),
    IND("eldercare_15min", _("Calls served within 15 minutes"), "eldercare.calls_15min", "eldercare.calls", P100, "%",
      Decimal(90), group="eldercare"),
    # --- 千万工程 ---------------------------------------------------------------------------------
    IND("water_started", _("Drinking water: villages started"), "water.started", unit=_("villages"),
      group="programmes", decimals=0),
    IND("water_done", _("Drinking water: villages done"), "water.done", unit=_("villages"), group="programmes",
      decimals=0),
    IND("water_pipe", _("Drinking water: pipe laid"), "water.pipe_km", unit=_("km"), group="programmes", decimals=0),
    IND("water_use", _("Water use against the baseline"), "water.use_m3", "water.baseline_m3", P100, "%",
      Decimal(80), Direction.DOWN, group="programmes"),
    IND("roads_area", _("Roads surfaced"), "roads.area_m2", factor=Decimal("0.0001"), unit=_("10k m²"),
      group="programmes", decimals=1),
    IND("heating_households", _("Clean heating: households"), "heating.households", unit=H, group="programmes",
      decimals=0),
    IND("heating_coverage", _("Clean heating: share of planned households"), "heating.households",
      "heating.households_planned", P100, "%", Decimal(100), group="programmes"),
    IND("heating_stations", _("Clean heating: stations"), "heating.stations", unit=_("stations"), group="programmes",
      decimals=0),
    IND("sewage_done", _("Sewage: villages treated"), "sewage.done", unit=_("villages"), group="programmes",
      decimals=0),
    IND("toilets_coverage", _("Sanitary toilets: share of planned households"), "toilets.households",
      "toilets.households_planned", P100, "%", Decimal(100), group="programmes"),
    IND("refuse_done", _("Refuse collection: villages done"), "refuse.done", unit=_("villages"), group="programmes",
      decimals=0),
]
INDICATORS: dict[str, Indicator] = {i.code: i for i in INDICATORS_LIST}
GROUPS: dict[str, Promise] = {
    "reporting": _("Reporting"), "governance": _("Cases and governance"), "households": _("Households"),
    "economy": _("Collective economy and openness"), "eldercare": _("Elderly care"),
    "programmes": _("千万工程 programmes"),
}
# The key figures on every dashboard, in order.
KEY_FIGURES = ("case_on_time", "case_satisfaction", "case_overdue_per100", "visit_coverage", "points_participation",
               "monitoring_households", "collective_income", "completeness")


def element(code: str) -> DataElement:
    return ELEMENTS[code]


def needed_elements(indicators: list[Indicator] | tuple[Indicator, ...]) -> list[str]:
    return sorted({code for i in indicators for code in i.elements})
