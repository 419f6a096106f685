"""Issue 17's smaller services in a real browser (Chromium, 390 px wide): a family's childcare
(托育) application goes onto the waiting list and is offered a place, with the public page's
figures following; a household's policy card (明白卡) page explains why it qualifies, prints
as a PDF and drops off the grid's "qualifies but not applied" list once recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from hemei.core.scope import SYSTEM
from hemei.policies import services as policies
from hemei.policies.models import Application
from hemei.regions import services as regions
from hemei.services import childcare
from hemei.services.models import ChildcareApplication
from tests.conftest import new_id
from tests.test_browser import browser, cjk_font_ready, live_world, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "has_touch": True}


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_childcare_application_waits_in_line_and_is_offered_a_place(browser, live_world):  # noqa: F811
    world, base = live_world
    centre = childcare.provider_create(actor=world.user("secretary"), region=world.village, name="西邵村托育中心",
                                       capacity=2, address="村委会西侧", phone="0351-6012345")
    public = browser.new_page(**PHONE)
    public.goto(f"{base}/tuoyu/{centre.pk}/")
    text = public.inner_text("main")
    assert "托位 2 个" in text and "排队家庭 0 户" in text and "0351-6012345" in text, text
    assert _no_sideways_scroll(public)

    page = browser.new_page(**PHONE)
    sign_in(page, base, "secretary")
    page.wait_for_url(f"{base}/w/**")
    page.goto(f"{base}/w/tuoyu/{centre.pk}/apply/")
    today = timezone.localdate()
    born = today.replace(year=today.year - 2)
    # A birth date in the future is refused with a message, and nothing is stored.
    page.fill("input[name=child_name]", "王小明")
    page.fill("input[name=child_birth_date]", (today + dt.timedelta(days=30)).isoformat())
    page.fill("input[name=guardian_name]", "王建国")
    page.fill("input[name=guardian_phone]", "13800001111")
    page.fill("input[name=desired_start]", today.isoformat())
    page.click("main button[type=submit]")
    page.wait_for_selector(".errorlist[role=alert]")
    assert not ChildcareApplication.objects.exists()
    assert _no_sideways_scroll(page)
    page.fill("input[name=child_birth_date]", born.isoformat())
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/w/tuoyu/{centre.pk}/")
    assert "排队第 1 位" in page.inner_text("main"), page.inner_text("main")
    waiting = page.locator("ul.cards").first.inner_text()
    assert "王**" in waiting and "138****1111" in waiting and "13800001111" not in waiting, waiting
    public.reload()
    assert "排队家庭 1 户" in public.inner_text("main")

    page.click("button:has-text('向排队第一位的家庭发放名额')")
    page.wait_for_url(f"{base}/w/tuoyu/{centre.pk}/")
    application = ChildcareApplication.objects.get()
    assert application.status == ChildcareApplication.Status.OFFERED
    centre.refresh_from_db()
    assert (centre.enrolled, centre.offered) == (0, 1)
    public.reload()
    text = public.inner_text("main")
    assert "排队家庭 0 户" in text and "空余托位 1 个" in text, text
    assert _no_sideways_scroll(page) and cjk_font_ready(page)


def test_the_policy_card_page_explains_prints_and_leaves_the_not_applied_list(browser, live_world):  # noqa: F811
    world, base = live_world
    policy = policies.policy_create(actor=SYSTEM, region=world.county, code="gaoling", name="高龄津贴",
                                    issuer="晋源区民政局", summary="八十岁以上老人每月领取", benefit="每月100元",
                                    how_to_apply="到村委会申请")
    policies.version_create(actor=SYSTEM, policy=policy, label="2025年版", effective_from=dt.date(2025, 1, 1),
                            conditions=[{"field": "member.age", "op": ">=", "value": 80}])
    today = timezone.localdate()
    regions.resident_create(actor=SYSTEM, household=world.house_a, name="王满仓",
                            id_number=new_id(today.replace(year=today.year - 85)), relation="parent")
    page = browser.new_page(**PHONE)
    sign_in(page, base, "grid1")
    page.wait_for_url(f"{base}/w/**")

    page.goto(f"{base}/w/policies/not-applied/")
    listed = page.inner_text("main")
    assert "高龄津贴" in listed and "王满仓" in listed, listed
    page.click(f"main a[href='/w/policies/households/{world.house_a.pk}/']")
    page.wait_for_url(f"{base}/w/policies/households/{world.house_a.pk}/")
    card = page.locator("section.card", has_text="高龄津贴").first
    why = card.inner_text()
    assert "符合" in why and "王满仓" in why and "80" in why and "✓" in why, why
    assert _no_sideways_scroll(page)

    # The card prints as a PDF (the link the page offers).
    href = page.get_attribute("a[href*='card.pdf']", "href")
    assert href is not None
    pdf = page.request.get(f"{base}{href}")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    page.click("button:has-text('登记申请：王满仓')")
    page.wait_for_load_state("load")
    assert Application.objects.filter(household=world.house_a, policy=policy).count() == 1
    page.goto(f"{base}/w/policies/not-applied/")
    assert "王满仓" not in page.inner_text("main")
    assert cjk_font_ready(page)
