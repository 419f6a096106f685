"""Key pages in a real browser: Playwright driving Debian's Chromium (never a downloaded one)."""

import os
import shutil

import pytest

from tests.conftest import PASSWORD, build_world, require

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Playwright's sync API runs an event loop in this thread; the ORM calls in fixtures are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser():
    require(os.path.exists(CHROMIUM), "Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


@pytest.fixture
def live_world(transactional_db, live_server):
    return build_world(), live_server.url


def cjk_font_ready(page):
    return page.evaluate("document.fonts.ready.then(() => document.fonts.check('20px \"Noto Sans CJK SC\"', '网格'))")


def sign_in(page, base, login):
    page.goto(f"{base}/login/")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")


def test_grid_worker_finds_a_household_by_pinyin_initials(browser, live_world, tmp_path):
    world, base = live_world
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, base, "grid1")
    page.wait_for_url(f"{base}/w/")
    page.goto(f"{base}/w/households/")  # /w/ is the to-do list; households are a tap away
    assert "第一网格" in page.inner_text("body")
    page.fill("input[name=q]", "wjg")
    page.click("form.searchbar button[type=submit]")
    page.wait_for_selector("#household-table a:has-text('王建国')")
    # The other grid's household never shows up.
    assert "张志强" not in page.inner_text("#household-table")
    page.click("#household-table a:has-text('王建国')")
    page.wait_for_url(f"{base}/w/households/{world.house_a.pk}/")
    body = page.inner_text("body")
    assert "王建国" in body and "李秀英" in body
    assert world.head_a.id_number not in body and world.head_a.id_masked in body
    assert cjk_font_ready(page)
    page.screenshot(path=os.environ.get("HEMEI_SCREENSHOT", str(tmp_path / "household.png")), full_page=True)


def test_villager_signs_in_by_phone_on_a_phone(browser, live_world):
    _world, base = live_world
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                            has_touch=True)
    sign_in(page, base, "13800001111")
    page.wait_for_url(f"{base}/me/")
    body = page.inner_text("body")
    assert "王建国" in body and "李秀英" in body and "张志强" not in body
    assert cjk_font_ready(page)
    # Large type for elderly users and no horizontal scrolling on a phone.
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 18
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_secretary_reveals_an_id_number_with_htmx(browser, live_world):
    world, base = live_world
    page = browser.new_page()
    sign_in(page, base, "secretary")
    page.wait_for_url(f"{base}/w/")
    page.goto(f"{base}/w/households/{world.house_a.pk}/")
    assert world.head_a.id_number not in page.inner_text("body")
    button = page.locator("tr", has_text="王建国").locator("button").first
    # The button must be readable: not white on the white table (a bug once).
    assert button.evaluate("b => getComputedStyle(b).color") != "rgb(255, 255, 255)"
    button.click()
    page.wait_for_selector(f"text={world.head_a.id_number}")
    from hemei.core.models import AuditEntry

    assert AuditEntry.objects.filter(action="reveal", actor_name="secretary").count() == 1
