"""Demo data for hemei.assets (called by `hemei.regions.demo.build.extra_demos`)."""

from __future__ import annotations

from typing import Any


def demo_assets(*, stdout: Any = None) -> int:
    return 0  # placeholder until the app's demo is written
