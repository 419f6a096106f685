"""The outside tester's probes of issue 11, re-runnable against a served demo county.

Run on a throw-away demo database (`hemei demo`), with the project's environment and the same
DATABASE_URL as the server. The database is used directly only to set the stage: `plant` writes
health phrases to find, the probes read the health texts of other scopes and issue API tokens
(`hemei token` would do the same); every probe itself goes over HTTP. `--other` names a staff
login of another village (the demo has none: make a secretary of 东邵村 first). Run:

    uv run --frozen python scripts/probes.py plant
    uv run --frozen python scripts/probes.py crawl  --base http://127.0.0.1:18700
    uv run --frozen python scripts/probes.py scope  --base http://127.0.0.1:18700 --other othersec
    uv run --frozen python scripts/probes.py xss    --base http://127.0.0.1:18700
    uv run --frozen python scripts/probes.py lockout --base http://127.0.0.1:18700 --second-ip 127.0.0.2

crawl: every page and export each persona's links reach (anonymous: the public boards and
Open311), searched for unmasked ID numbers, mobiles and bank cards (hemei.core.pii and plain
regexes) and for health texts of care and monitoring records outside the persona's scope.
scope: list, detail and write attempts on objects outside each persona's scope, through the API
and the pages; any 2xx on an out-of-scope detail or write is a finding.
xss: script payloads in a case, a case note and a disclosure, then every page showing them opened
in Chromium; any dialog is a finding.
lockout: bad logins from one address then a good one from another; random tokens.
Each prints its figures as one JSON object at the end. The server should run with
HEMEI_RATES_ENABLED=0 for crawl, scope and xss (hundreds of requests from one address), and with
the real rates for lockout.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import secrets
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hemei.settings")

import django

django.setup()

from hemei.core import pii  # noqa: E402

PASSWORD = os.environ.get("HEMEI_DEMO_PASSWORD", "hemei-demo-2026")
STAFF = ("grid1", "secretary", "township", "county", "supervisor", "accountant", "care", "shop")
# Never followed: they end the session, change the language, or are no page of the product.
SKIP = re.compile(r"^/(logout|i18n|admin|static|media|hooks)/|/reveal/|/delete/|\?.*\bpage=\d{3,}")

# --- detection -----------------------------------------------------------------------------
# Not glued to letters or digits: hex digests (the points chain) hold long digit runs.
ID_PLAIN = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
MOBILE_PLAIN = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
CARD_PLAIN = re.compile(r"(?<![0-9A-Za-z])\d{16,19}(?![0-9A-Za-z])")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_ok(number: str) -> bool:
    """GB 11643 MOD 11-2, written out here so the probe does not trust the code it tests."""
    total = sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def plain_findings(text: str) -> list[tuple[str, str]]:
    found = [("id_number", m) for m in ID_PLAIN.findall(text) if id_check_ok(m)]
    found += [("phone", m) for m in MOBILE_PLAIN.findall(text)]
    found += [
        ("bank_card", m) for m in CARD_PLAIN.findall(text) if luhn_ok(m) and not (len(m) == 18 and id_check_ok(m))
    ]
    return found


def detector_findings(text: str) -> list[tuple[str, str]]:
    kinds = {pii.ID_NUMBER, pii.PHONE, pii.BANK_CARD}
    return [(f.kind, f.masked) for f in pii.find_personal_data(text, kinds=kinds)]


def body_text(response: requests.Response) -> tuple[str, str]:
    """(kind, text): xlsx workbooks are opened with openpyxl, every cell of every sheet."""
    ctype = response.headers.get("Content-Type", "")
    if "spreadsheetml" in ctype and response.status_code == 200:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        cells = [
            str(v)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for v in row
            if v is not None
        ]
        return "xlsx", "\n".join(cells)
    if "pdf" in ctype:
        return "pdf", ""
    return ("page" if "html" in ctype else "data"), response.text


# --- sessions ------------------------------------------------------------------------------
def login(base: str, name: str, password: str = PASSWORD, source: str | None = None) -> requests.Session:
    session = requests.Session()
    if source:
        from requests.adapters import HTTPAdapter

        class Bound(HTTPAdapter):
            def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
                kwargs["source_address"] = (source, 0)
                super().init_poolmanager(*args, **kwargs)

        session.mount("http://", Bound())
    session.get(f"{base}/login/")
    response = session.post(
        f"{base}/login/",
        data={"login": name, "password": password, "csrfmiddlewaretoken": session.cookies.get("csrftoken", "")},
        headers={"Referer": f"{base}/login/"},
        allow_redirects=False,
    )
    session.headers["X-Login-Status"] = str(response.status_code)
    if name and response.status_code != 302:
        raise SystemExit(f"login {name}: {response.status_code}")
    return session


def token_for(name: str) -> str:
    from rest_framework.authtoken.models import Token

    from hemei.accounts.models import User

    token, _created = Token.objects.get_or_create(user=User.objects.get(username=name))
    return str(token.key)


# --- crawl ---------------------------------------------------------------------------------
HREF = re.compile(r"""(?:href|hx-get|src)=["']([^"'#]+)""")


def template_of(path: str) -> str:
    return re.sub(r"/\d+", "/N", re.sub(r"\d{6,}", "C", path))


@dataclass
class Crawl:
    persona: str
    pages: int = 0
    exports: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    findings: list[dict[str, str]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


def crawl(base: str, persona: str, starts: Iterable[str], markers: dict[str, str], limit: int) -> Crawl:
    session = login(base, persona) if persona != "anonymous" else requests.Session()
    result = Crawl(persona)
    queue = list(starts)
    per_template: Counter[str] = Counter()
    while queue and result.pages + result.exports < limit:
        url = queue.pop(0)
        if url in result.seen:
            continue
        result.seen.add(url)
        response = session.get(base + url, allow_redirects=True, timeout=60)
        result.statuses[response.status_code] += 1
        final = urlsplit(response.url).path
        if persona != "anonymous" and final.startswith("/login/"):
            continue
        kind, text = body_text(response)
        if kind in {"xlsx", "pdf"}:
            result.exports += 1
        else:
            result.pages += 1
        hits = set(detector_findings(text)) | set(plain_findings(text))
        for what, value in sorted(hits):
            result.findings.append({"url": url, "kind": what, "value": value})
        for marker, where in markers.items():
            if marker in text:
                result.findings.append({"url": url, "kind": "health", "value": f"{marker} ({where})"})
        if kind != "page" and not url.endswith(".json"):
            continue
        links = HREF.findall(text) if kind == "page" else re.findall(r'"(/open311/v2/requests/[^"]+\.json)"', text)
        if url.endswith("requests.json"):
            links += [f"/open311/v2/requests/{n}.json" for n in re.findall(r'"service_request_id": ?"([^"]+)"', text)][
                :60
            ]
            links += [f"/open311/v2/requests/{n}.xml" for n in re.findall(r'"service_request_id": ?"([^"]+)"', text)][
                :5
            ]
        for href in links:
            href = href.replace("&amp;", "&")
            absolute = urljoin(base + url, href)
            if not absolute.startswith(base):
                continue
            path = absolute[len(base) :]
            if SKIP.search(path) or path in result.seen:
                continue
            if persona == "anonymous" and path.startswith(("/w/", "/me/", "/inbox/", "/api/")):
                continue
            template = template_of(path.split("?")[0]) + ("?" if "?" in path else "")
            per_template[template] += 1
            if per_template[template] > 12:
                continue
            queue.append(path)
    return result


def health_markers(persona: str) -> dict[str, str]:
    """Health phrases of care and monitoring records outside the persona's scope (an elder's
    health notes, a visit's health note, a monitoring record's detail and notice), each with
    where it comes from; "also in scope" when a record in the persona's scope has it too (the
    hit then needs a look: the same words may be the persona's own records, shown masked or not)."""
    from hemei.accounts.models import User
    from hemei.care.models import CareVisit, Elder
    from hemei.visits.models import Monitoring, Visit

    sources: list[tuple[Any, str, str]] = [
        (Elder.objects.select_related("region", "resident"), "health_notes", "resident.household_id"),
        (CareVisit.objects.select_related("region", "elder__resident"), "note", "elder.resident.household_id"),
        (Visit.objects.select_related("region"), "health_note", "household_id"),
        (Monitoring.objects.select_related("region"), "detail", "household_id"),
        (Monitoring.objects.select_related("region"), "notice_text", "household_id"),
    ]
    paths: list[str] = []
    household = None
    if persona != "anonymous":
        user = User.objects.get(username=persona)
        for post in user.posts.current().select_related("region", "resident"):
            if post.role == "villager":
                household = post.resident.household_id if post.resident is not None else None
            else:
                paths.append(post.region.path)
    inside: set[str] = set()
    outside: dict[str, str] = {}
    for queryset, field_name, house_attr in sources:
        for row in queryset.iterator():
            text = getattr(row, field_name) or ""
            held: Any = row
            for part in house_attr.split("."):
                held = getattr(held, part, None)
            mine = any(row.region.path.startswith(p) for p in paths) or (household is not None and held == household)
            for fragment in re.split(r"[，。；;,、\s]+", text):
                if len(fragment) >= 2 and (field_name == "health_notes" or pii.find_health_details(fragment)):
                    if mine:
                        inside.add(fragment)
                    else:
                        outside.setdefault(fragment, f"{row._meta.label_lower}:{row.pk}")
    return {k: v + (" also in scope" if k in inside else "") for k, v in outside.items()}


CANARIES = (("140110101201002", "甲"), ("140110101202", "乙"), ("140110102201", "丙"), ("140110101201001", "丁"))


def run_plant(args: argparse.Namespace) -> dict[str, Any]:
    """Unique health phrases in one elder's notes and one visit's health note of grid 2 and grid
    1 of 西邵村, of 东邵村 and of 金胜村 (another township), so the crawl has health texts of
    other scopes to look for. Run once on a throw-away demo database, before `crawl`."""
    from hemei.care.models import Elder
    from hemei.regions.models import Region
    from hemei.visits.models import Visit

    planted: dict[str, Any] = {}
    for code, tag in CANARIES:
        region = Region.objects.get(code=code)
        elder = Elder.objects.filter(region__path__startswith=region.path).first()
        visit = Visit.objects.filter(region__path__startswith=region.path).first()
        if elder:
            Elder.objects.filter(pk=elder.pk).update(health_notes=f"探针{tag}肺癌晚期化疗中")
        if visit:
            Visit.objects.filter(pk=visit.pk).update(health_note=f"探针{tag}尿毒症透析")
        planted[code] = {"elder": elder.pk if elder else None, "visit": visit.pk if visit else None}
    return planted


def run_crawl(args: argparse.Namespace) -> dict[str, Any]:
    from hemei.regions.models import Region

    villages = list(Region.objects.filter(level="village").values_list("code", flat=True))
    anon_starts = ["/", *[f"/v/{c}/" for c in villages], "/yanxue/", "/tuoyu/"]
    anon_starts += [f"/open311/v2/{p}" for p in ("services.json", "services.xml", "requests.json", "requests.xml")]
    report: dict[str, Any] = {}
    for persona in ["anonymous", "villager", *STAFF, args.other]:
        markers = health_markers(persona)
        starts = anon_starts if persona == "anonymous" else ["/", "/w/", "/me/"]
        result = crawl(args.base, persona, starts, markers, args.limit)
        report[persona] = {
            "pages": result.pages,
            "exports": result.exports,
            "statuses": dict(result.statuses),
            "health_markers": len(markers),
            "findings": result.findings[:40],
            "finding_count": len(result.findings),
        }
        print(persona, result.pages, result.exports, dict(result.statuses), len(result.findings), file=sys.stderr)
    return report


# --- scope ---------------------------------------------------------------------------------
def api_ids(session: requests.Session, url: str, pages: int = 4) -> set[str]:
    ids: set[str] = set()
    for _ in range(pages):
        response = session.get(url, timeout=60)
        if response.status_code != 200 or "json" not in response.headers.get("Content-Type", ""):
            break
        data = response.json()
        rows = data.get("results", data) if isinstance(data, dict) else data
        if not isinstance(rows, list):
            break
        for row in rows:
            if isinstance(row, dict):
                key = row.get("number") or row.get("id") or row.get("code")
                if key is not None:
                    ids.add(str(key))
        nxt = data.get("next") if isinstance(data, dict) else None
        if not nxt:
            break
        url = nxt
    return ids


def api_session(base: str, name: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token_for(name)}"
    return session


def run_scope(args: argparse.Namespace) -> dict[str, Any]:
    base = args.base
    schema = requests.get(
        f"{base}/api/schema/?format=json", headers={"Authorization": f"Token {token_for('county')}"}, timeout=60
    ).json()
    collections = [p for p in schema["paths"] if "{" not in p and "get" in schema["paths"][p]]
    details = [p for p in schema["paths"] if re.fullmatch(r"/api/v1/[a-z/_-]+/\{[a-z_]+\}/", p)]
    county = api_session(base, "county")
    county_ids = {p: api_ids(county, base + p) for p in collections}
    attempts: Counter[str] = Counter()
    successes: list[dict[str, str]] = []
    for persona in ("grid1", args.other, "villager", "township"):
        api = api_session(base, persona)
        web = login(base, persona)
        csrf = web.cookies.get("csrftoken", "")
        visible: dict[str, set[str]] = {}
        for collection in collections:
            mine = visible[collection] = api_ids(api, base + collection, pages=20)
            outside = sorted(county_ids[collection] - mine)[: args.per_endpoint]
            detail = next(
                (d for d in details if d.startswith(collection) and d.count("/") == collection.count("/") + 1), None
            )
            if detail is None:
                continue
            methods = schema["paths"][detail]
            for key in outside:
                url = base + re.sub(r"\{[a-z_]+\}", key, detail)
                tries: list[tuple[str, requests.Response]] = [("GET", api.get(url, timeout=60))]
                for method in ("patch", "put", "delete"):
                    if method in methods:
                        tries.append((method.upper(), api.request(method, url, json={}, timeout=60)))
                for action in [
                    a
                    for a in schema["paths"]
                    if a.startswith(detail.split("{")[0])
                    and a.count("/") > detail.count("/")
                    and "post" in schema["paths"][a]
                ][:3]:
                    action_url = base + re.sub(r"\{[a-z_]+\}", key, action)
                    tries.append(("POST", api.post(action_url, json={}, timeout=60)))
                for method, response in tries:
                    attempts[f"api {method}"] += 1
                    if response.status_code < 300 or response.status_code == 400:
                        # 400 means the row was found and the body judged: the object was reached.
                        successes.append(
                            {
                                "persona": persona,
                                "method": method,
                                "url": response.url,
                                "status": str(response.status_code),
                            }
                        )
        # Lists narrowed to another township's village or a guessed household: an unknown filter is
        # ignored, so the rows must stay within what the persona's plain list holds.
        for collection in collections:
            for name, value in (("region", "140110102201"), ("village", "140110102201"), ("household", "1")):
                got = api_ids(api, f"{base}{collection}?{name}={value}", pages=1)
                attempts["api list filter"] += 1
                extra = got - visible[collection]
                if extra:
                    successes.append(
                        {
                            "persona": persona,
                            "method": "LIST",
                            "url": f"{collection}?{name}={value}",
                            "status": f"{len(extra)} rows beyond the plain list",
                        }
                    )
        # Pages: the county's detail pages of objects this persona does not reach by its links.
        for url in args.page_targets.get(persona, []):
            response = web.get(base + url, allow_redirects=False, timeout=60)
            attempts["page GET"] += 1
            if response.status_code == 200:
                successes.append({"persona": persona, "method": "page GET", "url": url, "status": "200"})
            post = web.post(
                base + url,
                data={"csrfmiddlewaretoken": csrf},
                headers={"Referer": base + url},
                allow_redirects=False,
                timeout=60,
            )
            attempts["page POST"] += 1
            if post.status_code in (200, 302):
                successes.append(
                    {"persona": persona, "method": "page POST", "url": url, "status": str(post.status_code)}
                )
    return {
        "attempts": dict(attempts),
        "total": sum(attempts.values()),
        "reached": successes[:200],
        "reached_count": len(successes),
    }


def page_targets(base: str, personas: Iterable[str], limit: int) -> dict[str, list[str]]:
    """Detail pages the county's links reach and the persona's links do not (object pages: a
    number in the path)."""
    county = crawl(base, "county", ["/", "/w/"], {}, limit).seen
    out: dict[str, list[str]] = {}
    for persona in personas:
        own = crawl(base, persona, ["/", "/w/", "/me/"], {}, limit).seen
        out[persona] = sorted(
            u
            for u in county - own
            if re.search(r"/\d+/", u) and "?" not in u and not u.startswith(PUBLIC) and not u.endswith(".xlsx")
        )
    return out


PUBLIC = ("/v/", "/yanxue/", "/tuoyu/", "/open311/")


# --- xss -----------------------------------------------------------------------------------
PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "'><svg onload=alert(3)>",
    "javascript:alert(4)",
)


def run_xss(args: argparse.Namespace) -> dict[str, Any]:
    """Payloads in a villager's case (API: title, description, address, reporter), its handling
    notes (grid worker: accept, start, resolve), an Open311 request and a disclosure draft (the
    secretary's form, in the browser); then every page that shows them, as four personas and
    anonymously. Any dialog is a finding."""
    import shutil

    from playwright.sync_api import Dialog, sync_playwright

    base = args.base
    payload = " ".join(PAYLOADS)
    villager = api_session(base, "villager")
    grid = api_session(base, "grid1")
    made: dict[str, str] = {}
    created = villager.post(
        f"{base}/api/v1/cases/",
        json={
            "title": "XSS " + PAYLOADS[1],
            "description": payload,
            "category": 1,
            "address_string": PAYLOADS[0],
            "reporter_name": PAYLOADS[2],
        },
        timeout=60,
    )
    number = str(created.json().get("number", "")) if created.status_code < 300 else ""
    made["case"] = f"{created.status_code} {number}"
    if number:
        for step, body in (
            ("accept", {"unit": "村委会 " + PAYLOADS[3]}),
            ("start", {"note": payload}),
            ("resolve", {"measures": payload}),
        ):
            made[step] = str(grid.post(f"{base}/api/v1/cases/{number}/{step}/", json=body, timeout=60).status_code)
    o311 = requests.post(
        f"{base}/open311/v2/requests.json",
        data={
            "api_key": token_for("villager"),
            "service_code": "1",
            "description": payload,
            "address_string": PAYLOADS[1],
        },
        timeout=60,
    )
    made["open311"] = str(o311.status_code)
    o311_id = re.findall(r'"service_request_id": ?"([^"]+)"', o311.text)
    pages = ["/w/", "/w/cases/", "/w/cases/board/", "/w/disclosure/", "/me/", "/me/cases/", "/v/140110101201/"]
    for n in [number, *o311_id]:
        if n:
            pages += [
                f"/w/cases/{n}/",
                f"/me/cases/{n}/",
                f"/open311/v2/requests/{n}.json",
                f"/open311/v2/requests/{n}.xml",
            ]
    dialogs: list[str] = []
    opened = 0
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        for persona in ("secretary", "grid1", "villager", "county", "anonymous"):
            context = browser.new_context()
            page = context.new_page()
            def on_dialog(dialog: Dialog, who: str = persona) -> None:
                dialogs.append(f"{who} {dialog.message}")
                dialog.dismiss()

            page.on("dialog", on_dialog)
            if persona != "anonymous":
                page.goto(f"{base}/login/")
                page.fill("input[name=login]", persona)
                page.fill("input[name=password]", PASSWORD)
                page.click("main button[type=submit]")
                page.wait_for_load_state()
            if persona == "secretary":
                page.goto(f"{base}/w/disclosure/new/")
                page.fill("input[name=period_start]", "2026-11-01")
                page.fill("input[name=period_end]", "2026-11-30")
                page.fill("input[name=title]", "XSS " + PAYLOADS[1])
                page.fill("textarea[name=body]", payload)
                page.click("main form button[type=submit]")
                page.wait_for_load_state()
                made["disclosure"] = page.url
                if re.search(r"/w/disclosure/\d+/", page.url):
                    pages.append(urlsplit(page.url).path)
                opened += 1
            for url in pages:
                if persona == "anonymous" and url.startswith(("/w/", "/me/")):
                    continue
                page.goto(base + url)
                page.wait_for_timeout(200)
                opened += 1
            if persona == "anonymous":  # the control: a dialog the listener must see
                page.evaluate("() => setTimeout(() => alert('control'), 0)")
                page.wait_for_timeout(300)
            context.close()
        browser.close()
    control = [d for d in dialogs if d.endswith("control")]
    return {
        "created": made,
        "pages": pages,
        "pages_opened": opened,
        "control_seen": bool(control),
        "dialogs": [d for d in dialogs if d not in control],
    }


# --- lockout and throttles -----------------------------------------------------------------
def run_lockout(args: argparse.Namespace) -> dict[str, Any]:
    """Six bad passwords for `secretary` and for a name nobody has, from one address; the right
    password from that address and from another; then 200 random API tokens."""
    base = args.base
    report: dict[str, Any] = {}
    for name in ("secretary", "no-such-login"):
        first = login(base, "", source=args.first_ip)
        answers: list[str] = []
        for _ in range(6):
            first.get(f"{base}/login/")
            response = first.post(
                f"{base}/login/",
                data={
                    "login": name,
                    "password": "wrong-Pass-1",
                    "csrfmiddlewaretoken": first.cookies.get("csrftoken", ""),
                },
                headers={"Referer": f"{base}/login/"},
                allow_redirects=False,
            )
            message = re.search(r'<p class="error"[^>]*>(.*?)</p>', response.text, re.S)
            said = message.group(1).strip() if message else response.headers.get("Retry-After", "")
            answers.append(f"{response.status_code} {said}")
        report[f"bad logins {name}"] = answers
    for label, source in (
        ("right password, same address", args.first_ip),
        ("right password, other address", args.second_ip),
    ):
        try:
            login(base, "secretary", source=source)
            report[label] = "302 signed in"
        except SystemExit as exc:
            report[label] = str(exc)
    second = requests.Session()
    statuses: Counter[int] = Counter()
    for _ in range(200):
        statuses[
            second.get(
                f"{base}/api/v1/households/", headers={"Authorization": f"Token {secrets.token_hex(20)}"}, timeout=30
            ).status_code
        ] += 1
    last = second.get(
        f"{base}/api/v1/households/", headers={"Authorization": f"Token {secrets.token_hex(20)}"}, timeout=30
    )
    report["random tokens"] = dict(statuses)
    report["retry_after"] = last.headers.get("Retry-After")
    report["429 body"] = last.text[:200]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("probe", choices=["plant", "crawl", "scope", "xss", "lockout"])
    parser.add_argument("--base", default="http://127.0.0.1:18700")
    parser.add_argument("--other", default="othersec", help="a staff login of another village")
    parser.add_argument("--limit", type=int, default=250, help="pages and exports per persona")
    parser.add_argument("--per-endpoint", type=int, default=3)
    parser.add_argument("--category", default="")
    parser.add_argument("--service-code", default="")
    parser.add_argument("--first-ip", default="127.0.0.1")
    parser.add_argument("--second-ip", default="127.0.0.2")
    parser.add_argument("--pages", nargs="*", default=[])
    args = parser.parse_args()
    args.public = set()
    if args.probe == "plant":
        report = run_plant(args)
    elif args.probe == "crawl":
        report = run_crawl(args)
    elif args.probe == "scope":
        args.page_targets = page_targets(args.base, ("grid1", args.other, "villager", "township"), 150)
        report = run_scope(args)
    elif args.probe == "xss":
        report = run_xss(args)
    else:
        report = run_lockout(args)
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
