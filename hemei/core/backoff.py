"""Doubling waits for loops that retry (no Django import: `hemei.core.supervise` uses it in
a process that stays small)."""

from __future__ import annotations

import time
from collections.abc import Callable


class Backoff:
    """Waits of first, 2×first, 4×first … up to ceiling; reset after a success."""

    def __init__(self, first: float = 1.0, ceiling: float = 60.0) -> None:
        self.first, self.ceiling = first, ceiling
        self.next = first

    def wait(self, sleep: Callable[[float], object] = time.sleep) -> float:
        waited = self.next
        sleep(waited)
        self.next = min(self.next * 2, self.ceiling)
        return waited

    def reset(self) -> None:
        self.next = self.first
