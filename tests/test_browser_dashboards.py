"""Dashboards in a real browser (Chromium): the county dashboard on a 390 px phone and the
county 大屏 at 1920×1080 draw every chart (a canvas with pixels on it) and the village map."""

from __future__ import annotations

import os

import pytest

from hemei.core.scope import SYSTEM
from hemei.indicators import rollup, services
from hemei.indicators.places import place_villages
from tests.test_browser import browser, live_world, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser]

# Every chart container holds a canvas with at least one painted pixel.
CHARTS_DRAWN = """() => Array.from(document.querySelectorAll('[data-dash-chart]')).map(el => {
  const canvas = el.querySelector('canvas');
  if (!canvas || !canvas.width || !canvas.height) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4 * 7) if (data[i] > 0) painted++;
  return painted;
})"""


def _figures(world) -> None:
    place_villages(world.county)
    month = rollup.open_periods()[0].code  # last month: the dashboards' default period
    for village, done in ((world.village, 1), (world.village2, 0)):
        report = services.report_save(actor=SYSTEM, village=village, period=month, values={
            "water.started": 1, "water.done": done, "water.pipe_km": "3.5", "refuse.started": 1})
        services.report_submit(actor=SYSTEM, report=report)
        services.report_approve(actor=world.user("township"), report=report)
    rollup.rebuild()


def _check(page) -> None:
    page.wait_for_selector("[data-dash-chart] canvas")
    page.wait_for_selector(".dash-map[data-ready]")
    drawn = page.evaluate(CHARTS_DRAWN)
    assert len(drawn) == 3 and all(n > 0 for n in drawn), drawn
    assert page.evaluate("document.querySelector('.dash-map').dataset.ready") == "2"
    assert page.locator(".dash-map path.leaflet-interactive").count() == 2


def test_the_county_dashboard_on_a_phone_and_the_big_screen(browser, live_world, tmp_path):  # noqa: F811
    world, base = live_world
    _figures(world)
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                             has_touch=True)
    sign_in(phone, base, "county")
    phone.wait_for_url(f"{base}/w/**")
    phone.goto(f"{base}/w/dashboard/?indicator=water_pipe")
    _check(phone)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.screenshot(path=os.environ.get("HEMEI_SCREENSHOT_DASHBOARD", str(tmp_path / "dashboard.png")),
                     full_page=True)

    screen = browser.new_page(viewport={"width": 1920, "height": 1080})
    sign_in(screen, base, "county")
    screen.wait_for_url(f"{base}/w/**")
    screen.goto(f"{base}/w/dashboard/screen/{world.county.code}/?indicator=water_pipe")
    _check(screen)
    screen.screenshot(path=os.environ.get("HEMEI_SCREENSHOT_SCREEN", str(tmp_path / "screen.png")))
    # Full screen without scrolling, dark, and it reloads itself.
    assert screen.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")
    assert screen.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(11, 20, 38)"
    assert screen.locator("meta[http-equiv=refresh]").count() == 1
