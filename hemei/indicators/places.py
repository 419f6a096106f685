"""Village locations and outlines for the map, generated deterministically for the demo.

The demo's villages are fictional, so their places are too: cells of a hexagonal lattice
(about 2 km apart) around 晋源区 (37.70 N, 112.48 E), handed out in a spiral from the
centre in village-code order, so each township's villages lie together. Each outline is an
irregular nine-sided polygon around its cell, its radii drawn from `random.Random(code)`: the
same code always gives the same shape, on every machine.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from decimal import Decimal

from hemei.indicators.models import Place
from hemei.regions.models import Level, Region

CENTRE = (37.70, 112.48)
SPACING = 0.02  # degrees of latitude between rows (≈ 2.2 km)
RADIUS = 0.0095
SIDES = 9


def _spiral() -> Iterator[tuple[int, int]]:
    """Axial hex coordinates in rings around (0, 0)."""
    yield 0, 0
    ring = 1
    directions = [(1, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1)]
    while True:
        q, r = -ring, ring  # start corner
        for dq, dr in directions:
            for _ in range(ring):
                yield q, r
                q, r = q + dq, r + dr
        ring += 1


def _cell_centre(q: int, r: int) -> tuple[float, float]:
    lat = CENTRE[0] + SPACING * (r * math.sqrt(3) / 2)
    # A degree of longitude is shorter than one of latitude at 37.7° N.
    lng = CENTRE[1] + SPACING * (q + r / 2) / math.cos(math.radians(CENTRE[0]))
    return lat, lng


def outline(code: str, lat: float, lng: float) -> list[list[float]]:
    rng = random.Random(int(code) if code.isdigit() else code)
    stretch = 1 / math.cos(math.radians(lat))
    points = []
    for i in range(SIDES):
        angle = 2 * math.pi * i / SIDES + rng.uniform(-0.2, 0.2)
        radius = RADIUS * rng.uniform(0.72, 1.0)
        points.append([round(lat + radius * math.sin(angle), 6), round(lng + radius * stretch * math.cos(angle), 6)])
    return points


def place_villages(county: Region) -> int:
    """Give every village of `county` without a place one (bulk); returns how many."""
    villages = list(Region.objects.filter(level=Level.VILLAGE, path__startswith=county.path).order_by("code"))
    have = set(Place.objects.filter(region__in=villages).values_list("region_id", flat=True))
    cells = _spiral()
    rows = []
    for village in villages:
        q, r = next(cells)
        if village.pk in have:
            continue
        lat, lng = _cell_centre(q, r)
        rows.append(Place(region=village, latitude=Decimal(f"{lat:.6f}"), longitude=Decimal(f"{lng:.6f}"),
                          outline=outline(village.code, lat, lng)))
    Place.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
