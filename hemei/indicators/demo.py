"""The demo county's 千万工程 figures and map: the seed's county figures, scaled.

The seed's figures are those of the real 晋源区: drinking water 75 villages started, 33 done,
1,084 km of pipe; roads 120万 m²; clean heating 21,484 households and 58 stations; sewage
181 villages of which 64 piped, 51 trucked and 4 moved; water use −26 % after leak repair.
The demo county has far fewer villages, so (docs/indicators.md):

- village counts scale by villages (demo villages ÷ 181), rounded to the nearest village, at
  least one village per named category (the 4 villages "moved" would round to none);
- quantities scale the same way (km of pipe, m² of road, stations) and are shared among the
  villages by households; clean-heating households scale by villages too and are capped at
  the village's households;
- water use: each reporting village's use is its baseline × 0.74 (±3 points, normalised so
  that the county is −26 %).

Each village reports the eleven months before this one; progress rises month by month to the
final figures. All months are approved by the township except last month, which two thirds
of the villages have approved and the rest have submitted (the township's queue).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils import timezone

from hemei.indicators import rollup
from hemei.indicators.models import Report, ReportValue
from hemei.indicators.periods import Period, month_of
from hemei.indicators.places import place_villages
from hemei.regions.models import Household, Level, Region

SEED_VILLAGES = 181
SEED = {"water.started": 75, "water.done": 33, "sewage.piped": 64, "sewage.trucked": 51, "sewage.moved": 4}
PIPE_KM = 1084
ROAD_M2 = 1_200_000
HEATING_HOUSEHOLDS = 21_484
HEATING_STATIONS = 58
WATER_USE = Decimal("0.74")
MONTHS = 11


def scaled_counts(villages: int) -> dict[str, int]:
    """The seed's village counts for `villages` villages (rounded, ≥ 1 each)."""
    share = villages / SEED_VILLAGES
    out = {k: max(1, round(v * share)) for k, v in SEED.items()}
    out["water.done"] = min(out["water.done"], out["water.started"])
    return out


def _split(total: float, weights: list[int]) -> list[float]:
    whole = sum(weights) or 1
    return [total * w / whole for w in weights]


def plan(villages: list[Region], households: dict[int, int], rng: random.Random) -> dict[int, dict[str, Decimal]]:
    """The final figures per village (the last month's report)."""
    n = len(villages)
    counts = scaled_counts(n)
    share = n / SEED_VILLAGES
    order = sorted(villages, key=lambda v: (v.code != "140110101201", rng.random()))  # 西邵村 first: a model village
    started = {v.pk for v in order[: counts["water.started"]]}
    done = {v.pk for v in order[: counts["water.done"]]}
    sewage_modes = (["piped"] * counts["sewage.piped"] + ["trucked"] * counts["sewage.trucked"]
                    + ["moved"] * counts["sewage.moved"])
    weights = [households.get(v.pk, 0) for v in order]
    pipe = _split(PIPE_KM * share, [w if v.pk in started else 0 for v, w in zip(order, weights, strict=True)])
    road = _split(ROAD_M2 * share, weights)
    heat = _split(HEATING_HOUSEHOLDS * share, weights)
    stations = _split(HEATING_STATIONS * share, weights)
    result: dict[int, dict[str, Decimal]] = {}
    for i, village in enumerate(order):
        h = households.get(village.pk, 0)
        values: dict[str, Any] = {
            "water.started": int(village.pk in started), "water.done": int(village.pk in done),
            "water.pipe_km": round(pipe[i], 1), "water.households": h if village.pk in done else h // 2 if
            village.pk in started else 0,
            "roads.started": 1, "roads.done": int(i < math.ceil(0.6 * n)), "roads.area_m2": round(road[i]),
            "heating.started": int(heat[i] > 0), "heating.done": int(i < n // 3),
            "heating.households_planned": h, "heating.households": min(h, round(heat[i])),
            "heating.stations": round(stations[i]),
            "toilets.started": 1, "toilets.done": int(i < math.ceil(0.8 * n)), "toilets.households_planned": h,
            "toilets.households": h if i < math.ceil(0.8 * n) else round(h * 0.6),
            "refuse.started": 1, "refuse.done": int(i < math.ceil(0.9 * n)), "refuse.stations": max(1, h // 150),
        }
        mode = sewage_modes[i] if i < len(sewage_modes) else ""
        values.update({"sewage.started": int(bool(mode) or i < len(sewage_modes) + 2), "sewage.done": int(bool(mode)),
                       "sewage.piped": int(mode == "piped"), "sewage.trucked": int(mode == "trucked"),
                       "sewage.moved": int(mode == "moved"), "sewage.households": h if mode == "piped" else 0})
        baseline = Decimal(h * 9)  # m³ a month: about 9 m³ per household before the repair
        values["water.baseline_m3"] = baseline
        values["water.use_m3"] = (baseline * (WATER_USE + Decimal(rng.randint(-3, 3)) / 100)).quantize(Decimal(1))
        result[village.pk] = {k: Decimal(str(v)) for k, v in values.items()}
    _normalise_water(result)
    return result


def _normalise_water(result: dict[int, dict[str, Decimal]]) -> None:
    base = sum(v["water.baseline_m3"] for v in result.values())
    use = sum(v["water.use_m3"] for v in result.values())
    if not base or not use:
        return
    factor = WATER_USE * base / use
    for values in result.values():
        values["water.use_m3"] = (values["water.use_m3"] * factor).quantize(Decimal(1))


def _ramp(final: dict[str, Decimal], step: int, steps: int) -> dict[str, Decimal]:
    """Month `step` of `steps` (1-based): quantities grow linearly to the final figures; a
    status switches on when the village's progress passes it (started early, done late)."""
    share = Decimal(step) / Decimal(steps)
    out: dict[str, Decimal] = {}
    for code, value in final.items():
        if code.endswith(".started"):
            out[code] = value if step >= max(1, steps // 4) else Decimal(0)
        elif code.endswith((".done", ".piped", ".trucked", ".moved")):
            out[code] = value if step == steps else Decimal(0)
        elif code.endswith(("_planned", "baseline_m3", "use_m3")):
            out[code] = value
        else:
            out[code] = (value * share).quantize(Decimal("0.1") if code == "water.pipe_km" else Decimal(1))
    if step < steps:  # not yet done: the mode is not chosen
        for code in list(out):
            if code.startswith("sewage.") and code.endswith(("piped", "trucked", "moved")):
                out[code] = Decimal(0)
    return out


def demo_indicators(*, stdout: Any = None, seed: int = 2026, county_code: str = "140110") -> int:
    """Places for the map, eleven months of 千万工程 reports, then a rollup rebuild."""
    county = Region.objects.get(code=county_code)
    placed = place_villages(county)
    villages = list(Region.objects.filter(level=Level.VILLAGE, path__startswith=county.path).order_by("code"))
    counts: dict[int, int] = {}
    for village_id in Household.objects.filter(village__in=villages).values_list("village_id", flat=True):
        counts[village_id] = counts.get(village_id, 0) + 1
    final = plan(villages, counts, random.Random(seed))
    this = month_of(timezone.localdate())
    months: list[Period] = [this]
    for _ in range(MONTHS):
        months.insert(0, months[0].previous())
    months = months[:-1]  # the eleven months before this one
    now = timezone.now()
    reports, pending = [], 0
    values: list[tuple[int, dict[str, Decimal]]] = []
    for v_index, village in enumerate(villages):
        for step, month in enumerate(months, start=1):
            last = step == len(months)
            waiting = last and v_index % 3 == 2
            pending += waiting
            reports.append(Report(county=county, village=village, period=month.code, version=1,
                                  status=Report.Status.SUBMITTED if waiting else Report.Status.APPROVED,
                                  created_at=now, submitted_at=now, approved_at=None if waiting else now,
                                  note="demo"))
            values.append((len(reports) - 1, _ramp(final[village.pk], step, len(months))))
    Report.objects.bulk_create(reports, batch_size=1000)
    ReportValue.objects.bulk_create([ReportValue(report=reports[i], element=k, value=v)
                                     for i, vals in values for k, v in vals.items() if v], batch_size=2000)
    applied = rollup.rebuild()
    _say(stdout, f"indicators: {placed} villages placed on the map, {len(reports)} monthly reports "
                 f"({pending} awaiting the township), {applied.summaries} summary rows")
    return len(reports)


def _say(stdout: Any, line: str) -> None:
    write: Callable[[str], object] | None = getattr(stdout, "write", None)
    if write is not None:
        write(line + "\n")
