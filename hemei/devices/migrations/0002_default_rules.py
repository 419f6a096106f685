"""Seed the default alarm rules (the catalogue every county uses until it adds its own).

Cameras' intrusion and fire, smoke detectors and high water open urgent cases at the village
(AI实时识别—分级推送预警—分层督办处置: the cases sweep climbs them to the township and county when
nobody acts); a call-box press opens an elder-care case only while no care app handles call
boxes itself; the scorpion house's band is 35–40 °C and 65–75 % humidity. Idempotent.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

# kind, profile, code, text, severity, metric, min, max, category name (opens a case) or ""
DEFAULTS = [
    ("camera", "", "intrusion", "摄像头识别到异常闯入", "major", "", None, None, "治安隐患"),
    ("camera", "", "fire", "摄像头识别到烟火", "critical", "", None, None, "消防隐患"),
    ("camera", "", "straw_burning", "摄像头识别到焚烧秸秆", "major", "", None, None, "消防隐患"),
    ("camera", "", "offline", "摄像头离线", "major", "", None, None, ""),
    ("smoke", "", "smoke", "烟感报警", "critical", "", None, None, "消防隐患"),
    ("water_level", "", "water_high", "水位超过警戒线", "critical", "level", None, 2.0, "治安隐患"),
    ("door", "", "opened", "门磁打开", "warning", "", None, None, ""),
    ("call_box", "", "press", "一键呼叫", "critical", "", None, None, "养老服务"),
    ("temp_humidity", "scorpion_house", "temperature_high", "蝎子房温度过高", "major", "temperature", None, 40.0, ""),
    ("temp_humidity", "scorpion_house", "temperature_low", "蝎子房温度过低", "major", "temperature", 35.0, None, ""),
    ("temp_humidity", "scorpion_house", "humidity_high", "蝎子房湿度过高", "minor", "humidity", None, 75.0, ""),
    ("temp_humidity", "scorpion_house", "humidity_low", "蝎子房湿度过低", "minor", "humidity", 65.0, None, ""),
]


def forwards(apps: Any, schema_editor: Any) -> None:
    Rule = apps.get_model("devices", "AlarmRule")
    Category = apps.get_model("cases", "Category")
    for kind, profile, code, text, severity, metric, low, high, category in DEFAULTS:
        if Rule.objects.filter(county__isnull=True, kind=kind, profile=profile, code=code).exists():
            continue
        found = Category.objects.filter(county__isnull=True, name=category).first() if category else None
        Rule.objects.create(kind=kind, profile=profile, code=code, text=text, severity=severity, metric=metric,
                            min_value=low, max_value=high, opens_case=found is not None, category=found)


def backwards(apps: Any, schema_editor: Any) -> None:
    apps.get_model("devices", "AlarmRule").objects.filter(county__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("devices", "0001_initial"), ("cases", "0002_default_categories")]
    operations = [migrations.RunPython(forwards, backwards)]
