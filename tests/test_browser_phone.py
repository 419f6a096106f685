"""Every staff menu page fits a phone (issue 15): at 390 px wide, as grid1, the secretary and
the township, no page scrolls sideways (document.documentElement.scrollWidth > innerWidth)."""

from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest

from hemei.cases.models import Case, Category
from hemei.cases.services import case_accept, case_submit
from hemei.core.scope import SYSTEM
from hemei.visits.services import visit_record
from tests.test_browser import browser, live_world, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("migration_seeds")]
# Not is_mobile: mobile emulation widens the layout viewport to fit wide content, so innerWidth
# would grow with the overflow it is meant to catch. A 390 px window measures it honestly.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "has_touch": True}
# Downloads and pages that are not screens (exports, PDFs) are not walked.
SKIP_SUFFIXES = (".xlsx", ".pdf", ".csv")


def _seed(world) -> dict[str, str]:
    """A little of everything, with long unbroken words (the case numbers, codes) that once
    pushed tables wider than a phone."""
    cat = Category.objects.get(county__isnull=True, name="公共设施：路灯")
    case = case_submit(actor=SYSTEM, region=world.grid_a, category=cat, title="村口路灯不亮已经三天了，晚上出门很危险",
                       description="村口路灯不亮。" * 20, source=Case.Source.VILLAGER, reporter=world.head_a,
                       household=world.house_a)
    taken = case_submit(actor=SYSTEM, region=world.grid_a, category=cat, title="健身器材坏了",
                        description="广场健身器材松动", source=Case.Source.PHONE, reporter_name="李秀英")
    case_accept(actor=SYSTEM, case=taken, responsible=world.user("grid_a"))
    visit_record(actor=world.user("grid_a"), household=world.house_a, needs="需要办理医保")
    return {"case": f"/w/cases/{case.number}/", "taken": f"/w/cases/{taken.number}/",
            "household": f"/w/households/{world.house_a.pk}/"}


def _menu_pages(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("header nav a[href]", "els => els.map(e => e.getAttribute('href'))")
    out: list[str] = []
    for href in hrefs:
        path = urlparse(href).path
        if path.startswith("/w/") and not path.endswith(SKIP_SUFFIXES) and path not in out:
            out.append(path)
    return out


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("login", ["grid1", "secretary", "township"])
def test_every_staff_menu_page_fits_a_phone(browser, live_world, login, tmp_path):  # noqa: F811
    world, base = live_world
    extra = _seed(world)
    page = browser.new_page(**PHONE)
    sign_in(page, base, login)
    page.wait_for_url(f"{base}/w/**")
    pages = ["/w/", *_menu_pages(page, base), *extra.values()]
    assert len(pages) >= 12, pages
    wide = {}
    for path in pages:
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status < 500, (path, response and response.status)
        if response.status >= 400:
            continue  # a page this persona may not open is not theirs to fit
        page.wait_for_load_state("load")
        if (extra_px := _overflow(page)) > 0:
            wide[path] = extra_px
    assert wide == {}, f"pages wider than the phone (px too wide): {wide}"
    # The measure itself can fail: a 600 px block makes the page scroll sideways.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<div style=\"width:600px;height:1px\"></div>')")
    assert _overflow(page) > 0
    if os.environ.get("HEMEI_SCREENS"):
        page.goto(f"{base}/w/")
        page.screenshot(path=os.path.join(os.environ["HEMEI_SCREENS"], f"todo-{login}-390.png"))


def test_api_docs_render_under_the_csp(browser, live_world):  # noqa: F811
    _world, base = live_world
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{base}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20000)
    assert "Hemei API" in page.inner_text(".swagger-ui .info .title")
    assert errors == []
