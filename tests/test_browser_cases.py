"""Cases in a real browser (Chromium): the villager's three steps on a phone with a photo, and
the township's supervision board with its charts drawn."""

from __future__ import annotations

import os

import pytest
from PIL import Image

from hemei.cases.models import Case, Category
from hemei.cases.services import case_accept, case_submit
from hemei.cases.sweep import sweep
from hemei.core.scope import SYSTEM
from tests.conftest import at
from tests.test_browser import browser, cjk_font_ready, live_world, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("migration_seeds")]


def test_villager_reports_with_a_photo_in_three_steps_on_a_phone(browser, live_world, tmp_path):  # noqa: F811
    world, base = live_world
    photo = tmp_path / "IMG_2026.jpg"
    Image.new("RGB", (800, 600), (90, 140, 60)).save(photo, format="JPEG")
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                            has_touch=True)
    sign_in(page, base, "13800001111")
    page.wait_for_url(f"{base}/me/")
    page.goto(f"{base}/me/cases/new/")
    page.click("label.choice:has-text('环境卫生')")
    page.fill("#id_description", "村口垃圾堆了一周没人清。请尽快处理")
    page.set_input_files("#id_photos", str(photo))
    page.click("button.bigbutton")
    page.wait_for_url(f"{base}/me/cases/140110-*/")
    case = Case.objects.get()
    assert case.title == "村口垃圾堆了一周没人清" and case.source == "villager" and case.region == world.grid_a
    body = page.inner_text("body")
    assert case.number in body and "村口垃圾" in body
    # The photo is served through the case's access check and really decodes in the browser.
    page.wait_for_function("document.querySelector('.photos img') && document.querySelector('.photos img').complete")
    assert page.evaluate("document.querySelector('.photos img').naturalWidth") == 800
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert cjk_font_ready(page)
    page.screenshot(path=os.environ.get("HEMEI_SCREENSHOT_CASE", str(tmp_path / "my-case.png")), full_page=True)


def test_township_board_shows_the_overdue_case_and_charts(browser, live_world, tmp_path):  # noqa: F811
    world, base = live_world
    cat = Category.objects.get(county__isnull=True, name="环境卫生")
    case = case_submit(actor=SYSTEM, region=world.grid_a, category=cat, title="排水沟堵塞", description="下雨就漫水",
                       source=Case.Source.PHONE, household=world.house_a)
    case_accept(actor=SYSTEM, case=case, unit="村委会")
    Case.objects.filter(pk=case.pk).update(resolve_by=at(2026, 1, 5))  # long past: the sweep escalates it
    assert [e.ref for e in sweep()] == [case.number]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, base, "township")
    page.goto(f"{base}/w/cases/board/")
    page.wait_for_selector(f"tr.late a:has-text('{case.number}')")
    # ECharts draws into a canvas inside each chart container.
    page.wait_for_selector("[data-chart=rates-by-region] canvas")
    page.wait_for_selector("[data-chart=rates-by-month] canvas")
    assert "西邵村" in page.inner_text("table.stats")
    page.screenshot(path=os.environ.get("HEMEI_SCREENSHOT_BOARD", str(tmp_path / "board.png")), full_page=True)
