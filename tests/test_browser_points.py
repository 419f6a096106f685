"""Points in a real browser (Chromium): a villager on a 390 px phone sees the balance and
reserves a reward; the shop keeper hands it over at the counter."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from hemei.core.scope import SYSTEM
from hemei.points import ledger, shop
from hemei.points.models import Redemption, Reward
from hemei.points.testing import adopted_rules
from tests.conftest import at
from tests.test_browser import browser, cjk_font_ready, live_world, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser]


def test_villager_reserves_on_a_phone_and_the_shop_hands_it_over(browser, live_world, tmp_path):  # noqa: F811
    world, base = live_world
    pts = adopted_rules(actor=SYSTEM, village=world.village, held_at=at(2026, 10, 1))
    entry = ledger.entry_propose(actor=SYSTEM, household=world.house_a, item=pts.rule("G1"),
                                 deed_date=dt.date(2026, 10, 2), idempotency_key="p", at=at(2026, 10, 2))
    ledger.entry_review(actor=SYSTEM, entry=entry, approve=True, idempotency_key="r", at=at(2026, 10, 2))
    ledger.publicity_sweep(at(2026, 10, 12))
    rice = shop.reward_create(actor=SYSTEM, village=world.village, name="大米5斤", price=8)
    shop.reward_restock(actor=SYSTEM, reward=rice, quantity=3, idempotency_key="s")

    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                             has_touch=True)
    sign_in(phone, base, "13800001111")
    phone.wait_for_url(f"{base}/me/")
    phone.goto(f"{base}/me/points/")
    assert "10" in phone.inner_text(".card.big")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.goto(f"{base}/me/shop/")
    phone.click("form.card:has-text('大米5斤') button[type=submit]")
    phone.wait_for_selector("text=大米5斤 ×1")
    redemption = Redemption.objects.get()
    assert redemption.state == Redemption.State.RESERVED and redemption.channel == Redemption.Channel.PHONE
    assert "2" in phone.inner_text(".card.big")  # 10 − 8 available
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert cjk_font_ready(phone)
    phone.screenshot(path=os.environ.get("HEMEI_SCREENSHOT_SHOP", str(tmp_path / "my-shop.png")), full_page=True)

    counter = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(counter, base, "shop")
    counter.wait_for_url(f"{base}/w/**")
    counter.goto(f"{base}/w/shop/counter/?village={world.village.code}")
    counter.fill("input[name=q]", "wjg")
    counter.click("form.searchbar button[type=submit]")
    counter.click("a.card:has-text('王建国')")
    counter.click("button[name=collect]")
    counter.wait_for_selector("button[name=collect]", state="detached")  # the page after the redirect
    redemption.refresh_from_db()
    assert redemption.state == Redemption.State.COLLECTED
    assert Reward.objects.get().stock == 2
