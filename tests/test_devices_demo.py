"""The demo's devices and their week, on the conftest world (its village is 西邵村's code)."""

from __future__ import annotations

import datetime as dt

from hemei.cases.models import Case
from hemei.core.scope import SYSTEM
from hemei.devices.credentials import check_secret
from hemei.devices.demo import demo_devices, demo_secret
from hemei.devices.models import Alarm, DeadLetter, Device
from hemei.regions import services as regions
from tests.conftest import new_id
from tests.devicekit import seed_rules


def test_the_demo_registers_devices_and_folds_a_week_into_alarms(world):
    seed_rules()
    regions.resident_create(actor=SYSTEM, household=world.house_b, name="赵桂兰",
                            id_number=new_id(dt.date(1948, 3, 2), male=False),
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
    # the intrusion and the burning; the care app handles call boxes, and its demo (not this
    # one) writes the calls' history
    assert Case.objects.filter(source=Case.Source.DEVICE).count() == 2
    assert not Alarm.objects.filter(device__kind="call_box").exists()
    assert not DeadLetter.objects.exists()
    assert Device.objects.filter(online=True).count() == Device.objects.count()
    assert demo_devices() == 0  # a second run changes nothing


def test_the_simulator_drives_the_listener_through_the_broker(transactional_db, world):
    import io
    import uuid

    from hemei.devices.mqtt import Broker, Listener
    from hemei.devices.simulate import demo_devices_list, simulate
    from tests.conftest import require
    from tests.devicekit import broker_up, listen_until

    require(broker_up(), "Mosquitto on 127.0.0.1:1883")
    seed_rules()
    regions.resident_create(actor=SYSTEM, household=world.house_b, name="赵桂兰",
                            id_number=new_id(dt.date(1948, 3, 2), male=False),
                            relation="mother")
    demo_devices()
    prefix = f"sim-{uuid.uuid4().hex[:8]}"
    listener = Listener(Broker(), prefix=prefix, client_id=f"l-{prefix}", log=io.StringIO())
    sent: list[int] = []
    devices = Device.objects.count()
    # a heartbeat each, two readings per farm sensor, one press
    expected = devices + 2 * 2 + 1
    mine = demo_devices_list()  # read here: the publishing thread must not touch the test database
    listen_until(listener, lambda: sent.append(simulate(Broker(), rounds=1, prefix=prefix, say=lambda _t: None,
                                                        devices=mine)), expect=expected)
    assert sent == [expected] and listener.stats.accepted == expected
    hot = Alarm.objects.get(device__code="xs-farm-1", code="temperature_high", state=Alarm.State.ACTIVE)
    assert hot.count == 1
    assert Alarm.objects.filter(device__code="xs-box-01", code="press", state=Alarm.State.ACTIVE).exists()
