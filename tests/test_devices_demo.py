"""The demo's devices and their week, on the conftest world (its village is 西邵村's code)."""

from __future__ import annotations

import datetime as dt

from hemei.cases.models import Case
from hemei.devices.demo import demo_devices, demo_secret
from hemei.devices.credentials import check_secret
from hemei.devices.models import Alarm, DeadLetter, Device
from hemei.regions import services as regions
from tests.conftest import new_id
from tests.devicekit import seed_rules


def test_the_demo_registers_devices_and_folds_a_week_into_alarms(world):
    seed_rules()
    regions.resident_create(household=world.house_b, name="赵桂兰", id_number=new_id(dt.date(1948, 3, 2), male=False),
                            relation="mother")
    assert demo_devices() > 0
    box = Device.objects.get(kind="call_box")
    assert box.resident.name == "赵桂兰" and "赵" in box.name and "桂兰" not in box.name
    assert check_secret(demo_secret(box.code), box.secret_hash)
    farm = Alarm.objects.filter(device__profile="scorpion_house")
    assert set(farm.values_list("code", flat=True)) == {"temperature_high", "humidity_low"}
    assert all(a.state == Alarm.State.CLEARED for a in farm)
    intrusion = Alarm.objects.get(code="intrusion")
    assert intrusion.count == 3 and intrusion.state == Alarm.State.CLEARED
    burning = Alarm.objects.get(code="straw_burning")
    assert burning.case is not None and burning.state == Alarm.State.ACKNOWLEDGED
    # the intrusion, the burning and the call (no care app here: the call-box rule opens the case)
    assert Case.objects.filter(source=Case.Source.DEVICE).count() == 3
    assert not DeadLetter.objects.exists()
    assert Device.objects.filter(online=True).count() == Device.objects.count()
    assert demo_devices() == 0  # a second run changes nothing
