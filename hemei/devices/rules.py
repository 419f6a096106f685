"""Alarm rules as data (`AlarmRule`) and the default handler of the kinds no app handles
(cameras, smoke, water level, temperature/humidity, door sensors; call boxes and bands too
while no care app registers for them).

A rule is looked up by (county, kind, profile, code): a county's own row before the default
catalogue, a profile's row before the kind's. Threshold rules (with a `metric`) turn readings
into raise/clear signals: the scorpion house's 35–40 °C and 65–75 % humidity are two such
rows each way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from hemei.devices.events import AlarmSignal, DeviceEvent
from hemei.devices.models import AlarmRule, Device, Severity

OFFLINE = "offline"
PRESS = "press"


@dataclass
class RuleBook:
    """The active rules, read once per batch of messages (the table is small)."""

    rules: list[AlarmRule]

    @classmethod
    def load(cls) -> RuleBook:
        return cls(list(AlarmRule.objects.filter(active=True).select_related("category")))

    def _candidates(self, device: Device) -> Iterable[AlarmRule]:
        for rule in self.rules:
            if rule.kind == device.kind and rule.county_id in (None, device.county_id) \
                    and rule.profile in ("", device.profile):
                yield rule

    @staticmethod
    def _rank(rule: AlarmRule) -> tuple[int, int]:
        return (0 if rule.county_id is not None else 1, 0 if rule.profile else 1)

    def for_code(self, device: Device, code: str) -> AlarmRule | None:
        found = [r for r in self._candidates(device) if r.code == code]
        return min(found, key=self._rank) if found else None

    def thresholds(self, device: Device, metric: str) -> list[AlarmRule]:
        """One rule per code (the most specific), for the rules watching `metric`."""
        best: dict[str, AlarmRule] = {}
        for rule in self._candidates(device):
            if rule.metric != metric:
                continue
            if rule.code not in best or self._rank(rule) < self._rank(best[rule.code]):
                best[rule.code] = rule
        return list(best.values())


def _outside(rule: AlarmRule, value: float) -> bool:
    return (rule.min_value is not None and value < rule.min_value) or \
        (rule.max_value is not None and value > rule.max_value)


def default_signals(device: Device, event: DeviceEvent, book: RuleBook) -> list[AlarmSignal]:
    """What a message of a kind without an app's handler means for the device's alarms."""
    data = event.data
    if event.type == "reading":
        value = float(data["value"])
        signals = []
        for rule in book.thresholds(device, str(data["metric"])):
            if _outside(rule, value):
                signals.append(AlarmSignal(rule.code, rule.severity, f"{rule.text} ({value:g})"))
            else:
                signals.append(AlarmSignal(rule.code, rule.severity, rule.text, clear=True))
        return signals
    if event.type in ("event", "press"):
        code = str(data.get("code") or PRESS)
        found = book.for_code(device, code)
        text = found.text if found else (str(data.get("text", ""))[:200] or code)
        return [AlarmSignal(code, found.severity if found else Severity.MAJOR, text)]
    if event.type == "clear":
        return [AlarmSignal(str(data["code"]), Severity.WARNING, "", clear=True)]
    return []  # heartbeats only keep the device online


def offline_signal() -> AlarmSignal:
    return AlarmSignal(OFFLINE, Severity.MAJOR, _("device offline (missed heartbeats)"))


def is_finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
