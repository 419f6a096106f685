"""Demo data for hemei.courtyard (called by `hemei.regions.demo.build.extra_demos`)."""

from __future__ import annotations

from typing import Any


def demo_courtyard(*, stdout: Any = None) -> int:
    return 0  # placeholder until the app's demo is written
