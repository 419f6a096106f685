"""Demo devices of 西邵村 and a week of their history.

- one-key call boxes in the homes of eight residents aged 70 and over (linked to the
  resident; the care app, where present, handles their presses);
- cameras at the east and west village entrances and at the village committee, a smoke
  detector at the 智慧康养服务中心 and a water level sensor at the river;
- the two temperature/humidity sensors of a scorpion farm (profile `scorpion_house`: 35–40 °C,
  65–75 % humidity).

The week is fed through the real ingestion (`ingest_batch` with the moment of each message),
so alarms fold, clear, open cases by rule and leave their history as live traffic would: the
farm overheats one afternoon and dries out one night, a camera sees a night intrusion
(three events, one alarm) and straw burning (a case), two calls are pressed (only where no
app handles call boxes). The secrets of demo devices are derived from their codes
(`demo_secret`) so that `hemei simulate-devices` can log in with them: never use them
outside the demo.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from typing import Any

from django.utils import timezone

from hemei.core.scope import SYSTEM
from hemei.devices.events import handler_for
from hemei.devices.ingest import Incoming, RateLimiter, ingest_batch
from hemei.devices.models import Alarm, Device
from hemei.devices.services import alarm_acknowledge, device_register
from hemei.regions.models import Level, Post, Region, Resident, Role

DEMO_PREFIX = "xs-"


def demo_secret(code: str) -> str:
    return hashlib.sha256(f"hemei-demo-device:{code}".encode()).hexdigest()[:32]


def _elders(village: Region, today: dt.date, n: int) -> list[Resident]:
    born_by = today.replace(year=today.year - 70)
    return list(Resident.objects.filter(region__path__startswith=village.path, status=Resident.Status.LIVING,
                                        birth_date__lte=born_by).select_related("region").order_by("id")[:n])


def _register(village: Region, today: dt.date) -> list[Device]:
    grids = list(Region.objects.filter(path__startswith=village.path, level=Level.GRID).order_by("code"))
    specs: list[tuple[Region, str, str, str, str, Resident | None]] = [
        (village, "camera", "cam-east", "东村口摄像头", "", None),
        (village, "camera", "cam-west", "西村口摄像头", "", None),
        (village, "camera", "cam-office", "村委会摄像头", "", None),
        (village, "smoke", "smoke-care", "智慧康养服务中心烟感", "", None),
        (village, "water_level", "river", "河道水位计", "", None),
        (grids[-1] if grids else village, "temp_humidity", "farm-1", "蝎子养殖房 1号温湿度", "scorpion_house", None),
        (grids[-1] if grids else village, "temp_humidity", "farm-2", "蝎子养殖房 2号温湿度", "scorpion_house", None),
    ]
    for i, elder in enumerate(_elders(village, today, 8), start=1):
        specs.append((elder.region, "call_box", f"box-{i:02d}", f"一键呼叫器 {elder.name[0]}**", "", elder))
    devices = []
    for region, kind, code, name, profile, resident in specs:
        full = f"{DEMO_PREFIX}{code}"
        device, _secret = device_register(actor=SYSTEM, region=region, kind=kind, code=full, name=name,
                                          profile=profile, resident=resident, secret=demo_secret(full))
        devices.append(device)
    return devices


def _msg(device: Device, kind: str, at: dt.datetime, n: int, **data: Any) -> Incoming:
    body = {"id": f"demo-{n}", "ts": at.isoformat(), "type": kind, "device": device.code, "data": data}
    return Incoming("mqtt", f"hemei/{device.county_code}/{device.code}/up/{kind}", json.dumps(body).encode(),
                    device.code, device.county_code, kind)


def _farm_value(metric: str, hour: int, sensor: int) -> float:
    """A day's swing inside the band, with the two bad spells of the week."""
    if metric == "temperature":
        value = 37.5 + 1.5 * math.sin((hour % 24 - 9) / 24 * 2 * math.pi) + 0.3 * sensor
        if 60 + 13 <= hour <= 60 + 16 and sensor == 1:  # day 3, 13:00–16:00: the fan failed
            value = 41.0 + 0.4 * (hour - 73)
        return round(value, 1)
    value = 70 + 3 * math.sin(hour / 7) - sensor
    if 96 + 1 <= hour <= 96 + 3 and sensor == 2:  # day 5 at night: the humidifier ran dry
        value = 58.0
    return round(value, 1)


def _week(devices: dict[str, Device], start: dt.datetime) -> list[tuple[dt.datetime, Incoming]]:
    out: list[tuple[dt.datetime, Incoming]] = []
    n = 0

    def add(name: str, kind: str, at: dt.datetime, **data: Any) -> None:
        nonlocal n
        n += 1
        out.append((at, _msg(devices[name], kind, at, n, **data)))

    for hour in range(7 * 24):
        at = start + dt.timedelta(hours=hour)
        for sensor in (1, 2):
            for metric in ("temperature", "humidity"):
                add(f"farm-{sensor}", "reading", at + dt.timedelta(minutes=sensor), metric=metric,
                    value=_farm_value(metric, hour, sensor))
        if hour % 6 == 0:
            for name in devices:
                if not name.startswith("farm"):
                    add(name, "heartbeat", at + dt.timedelta(minutes=5))
    night = start + dt.timedelta(days=1, hours=23, minutes=40)
    for k in range(3):  # one intrusion alarm folded from three events
        add("cam-east", "event", night + dt.timedelta(minutes=4 * k), code="intrusion")
    add("cam-east", "clear", night + dt.timedelta(minutes=30), code="intrusion")
    add("cam-west", "event", start + dt.timedelta(days=3, hours=16, minutes=12), code="straw_burning")
    # Presses only where no app handles call boxes: with the care app installed, its demo
    # writes the calls' history (work orders answered, late, rated) and a press replayed here
    # would open a work order today for a call a week old.
    if handler_for("call_box") is None:
        if "box-01" in devices:
            add("box-01", "press", start + dt.timedelta(days=1, hours=8, minutes=3))
        if "box-02" in devices:
            add("box-02", "press", start + dt.timedelta(days=5, hours=19, minutes=27))
    return sorted(out, key=lambda pair: pair[0])


def demo_devices(*, stdout: Any = None) -> int:
    """Returns the number of devices registered (0 when 西邵村 is missing or done already)."""
    from hemei.regions.demo import XISHAO_CODE

    village = Region.objects.filter(code=XISHAO_CODE).first()
    if village is None or Device.objects.filter(code__startswith=DEMO_PREFIX).exists():
        return 0
    now = timezone.now().replace(second=0, microsecond=0)
    devices = _register(village, timezone.localdate(now))
    by_code = {d.code.removeprefix(DEMO_PREFIX): d for d in devices}
    start = now - dt.timedelta(days=7)
    clock = [0.0]
    limiter = RateLimiter("60/60", clock=lambda: clock[0])
    for at, item in _week(by_code, start):
        clock[0] = (at - start).total_seconds()
        ingest_batch([item], now=at + dt.timedelta(seconds=2), limiter=limiter)
    # Today every device has spoken: the offline sweep has nothing to say until one goes quiet.
    ingest_batch([_msg(d, "heartbeat", now, 10_000 + i) for i, d in enumerate(devices)], now=now,
                 limiter=RateLimiter("60/60"))
    secretary = Post.objects.current().filter(region=village, role=Role.SECRETARY).select_related("user").first()
    burning = Alarm.objects.filter(device=by_code["cam-west"], code="straw_burning").first()
    if secretary is not None and burning is not None:
        alarm_acknowledge(actor=secretary.user, alarm=burning, note="已通知网格员到场处置")
    if stdout is not None:
        stdout.write(f"  devices: {len(devices)} in 西邵村, {Alarm.objects.count()} alarms over the last week\n")
    return len(devices)
