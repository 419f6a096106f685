"""Screenshots of the main pages at 390 px and 1440 px into docs/screens/ (issue 15).

Run against a server on the demo county (`make run`, or `hemei serve`), with Debian's Chromium:

    .tools/bin/uv run --frozen python scripts/screens.py [http://127.0.0.1:8000] [NAME …]

NAMEs (e.g. `member-party`) retake only those shots.

Each PNG is the first screenful and a bit (at most 1,800 px tall), reduced to 64 colours to
stay small in the repository.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screens"
PASSWORD = "hemei-demo-2026"  # noqa: S105 - the published demo password
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTHS = {"390": {"width": 390, "height": 844}, "1440": {"width": 1440, "height": 900}}
# (login, name, path or a function of the page that navigates)
SHOTS: list[tuple[str, str, str]] = [
    ("grid1", "todo", "/w/"),
    ("grid1", "case", "first-case"),
    ("grid1", "household", "first-household"),
    ("grid1", "cases", "/w/cases/"),
    ("secretary", "todo-secretary", "/w/"),
    ("secretary", "points-review", "/w/points/review/"),
    ("secretary", "finance", "/w/finance/"),
    ("secretary", "stars", "/w/stars/"),
    ("township", "township-home", "/w/"),
    ("county", "audit", "/w/audit/"),
    ("shop", "counter", "/w/shop/counter/"),
    ("villager", "villager-home", "/me/"),
    ("villager", "villager-case", "first-my-case"),
    ("member", "member-party", "/me/party/"),
    ("villager", "villager-policies", "/me/policies/"),
    ("care", "care-phone", "/w/care/"),
    ("secretary", "party-branches", "/w/party/"),
    ("secretary", "dashboard-village", "/w/dashboard/"),
    ("township", "emergency", "/w/emergency/"),
    ("county", "dashboard-county", "/w/dashboard/"),
    ("", "board", "/v/140110101201/"),
    ("", "yanxue", "/yanxue/"),
    ("", "sme-check", "/sme/check/"),
]


def sign_in(page: Page, base: str, login: str) -> None:
    page.context.clear_cookies()
    if not login:  # the public pages, signed out
        return
    page.goto(f"{base}/login/")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")


def go(page: Page, base: str, target: str) -> None:
    if target == "first-case":
        page.goto(f"{base}/w/")
        page.click("ul.todo li.todo-case a.item-title >> nth=0")
    elif target == "first-household":
        page.goto(f"{base}/w/households/")
        page.click("#household-table tbody a >> nth=0")
    elif target == "first-my-case":
        page.goto(f"{base}/me/cases/")
        page.click("main a[href^='/me/cases/1'] >> nth=0")
    else:
        page.goto(f"{base}{target}")
    page.wait_for_load_state("load")


def shrink(path: Path) -> None:
    image = Image.open(path).convert("RGB")
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main(base: str, only: set[str] | None = None) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for label, viewport in WIDTHS.items():
            context = browser.new_context(viewport=viewport, device_scale_factor=1, is_mobile=label == "390")
            page = context.new_page()
            current = ""
            for login, name, target in SHOTS:
                if only and name not in only:
                    continue
                if login != current:
                    sign_in(page, base, login)
                    current = login
                go(page, base, target)
                height = min(page.evaluate("document.documentElement.scrollHeight"), 1800)
                path = OUT / f"{name}-{label}.png"
                page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": viewport["width"], "height": height},
                                full_page=True)
                shrink(path)
                print(path.name, path.stat().st_size // 1024, "KB")
            context.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000", set(sys.argv[2:]) or None)
