"""The carer's phone page in a real browser (Chromium, 390 px wide): a call-box press shows
up, and the carer takes it on, checks in and finishes with thumb-sized buttons."""

from __future__ import annotations

import importlib
import os
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from hemei.care import services
from hemei.care.handlers import call_box
from hemei.care.models import WorkOrder
from hemei.cases.models import Case
from hemei.core.scope import SYSTEM
from hemei.devices.events import DeviceEvent
from hemei.regions.models import Role
from tests.conftest import make_user
from tests.test_browser import browser, cjk_font_ready, live_world, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser]


def test_the_carer_serves_a_call_on_a_390px_phone(browser, live_world, tmp_path):  # noqa: F811
    world, base = live_world
    importlib.import_module("hemei.care.migrations.0002_care_categories").create(django_apps, None)
    make_user("carer", region=world.village, role=Role.CARE_WORKER)
    elder = services.elder_register(actor=SYSTEM, resident=world.head_a, living="alone")
    box = SimpleNamespace(resident_id=elder.resident_id, region_id=elder.region_id, code="box-1")
    call_box(box, DeviceEvent(message_id="p1", at=timezone.now(), type="press"))
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                            has_touch=True)
    sign_in(page, base, "carer")
    page.goto(f"{base}/w/care/")
    card = page.locator(".order").first
    assert "一键呼叫" in card.inner_text() and "王**" in card.inner_text()
    button = card.locator("button.bigbutton")
    box_size = button.bounding_box()
    assert box_size is not None and box_size["height"] >= 60 and box_size["width"] >= 300  # a thumb's target
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # no sideways scroll
    button.click()  # take it on
    page.wait_for_selector(".order button:has-text('我已到达')")
    page.click(".order button.bigbutton")  # arrived
    page.wait_for_selector(".order textarea[name=note]")
    page.fill(".order textarea[name=note]", "送去酱油一瓶")
    page.click(".order button.bigbutton")
    page.wait_for_selector("text=没有待处理的呼叫")
    case = WorkOrder.objects.select_related("case").get().case
    assert case.status == Case.Status.RESOLVED and case.measures == "送去酱油一瓶"
    assert cjk_font_ready(page)
    page.screenshot(path=os.environ.get("HEMEI_SCREENSHOT_CARE", str(tmp_path / "care.png")), full_page=True)
