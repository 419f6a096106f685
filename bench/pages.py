"""pages: every page of every demo persona, against a trivial page of the same run.

Two demo counties are built into SQLite files under var/bench/ (kept and reused): the default
demo size and a county ten times its size (tiny: 600 and 6,000 households; small and full: the
default demo and 60,000). When DATABASE_URL names a PostgreSQL database, each county is built in
a database of its own beside it on that server instead (`<database>_pages_<size>_seed2026`, kept
and reused the same way; drop it to rebuild). In a child process per county, through the whole
Django stack with the test client:

1. Every demo persona signs in (a session, as a browser has) and opens every link of its menu
   (`<nav>` of its start page) and every API list it may read (the `api/v1/` routes without a
   parameter); anonymous, the public board of 西邵村: the summary and each section's page.
2. Per page: the median time over `repeat` requests as a ratio to the floor (the session-
   authenticated `GET /api/v1/whoami/` as `grid1`, measured in the same process right before
   each persona's pages), the SQL query count and the response size.
3. The public board under concurrency: a pool of 8 threads, each with its own client, fetches
   the board summary and then /healthz, in three rounds back to back; the throughput ratio is
   board / healthz of the round with the median ratio (one round of 200 requests each swung
   from 0.21 to 0.56 between runs of the same code: a pause of the shared machine falls on
   one side of a single pair).

Goals: no staff page over 10× the floor; no page over 25 queries; every page's query count
equal in both counties (pages follow the work they show, not the table); the public board
≥ 0.3× /healthz throughput.
"""

from __future__ import annotations

import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

from bench import bench_dir, check, median_seconds, postgres_database, postgres_url, run_child

# None: the default demo (about 6,000 households); the second size is about ten times it.
SIZES: dict[str, tuple[int | None, int | None]] = {
    "tiny": (600, 6_000), "small": (None, 60_000), "full": (None, 60_000),
}
REPEAT = {"tiny": 3, "small": 7, "full": 15}
SEED = 2026
STAFF_RATIO = 10
MAX_QUERIES = 25
BOARD_RATIO = 0.3
NAV = re.compile(r"<nav>(.*?)</nav>", re.S)
HREF = re.compile(r'href="(/[^"#?]*)"')
VILLAGE = "140110101201"
SKIP = ("/logout", "/i18n", "/admin", "/api/docs", "/api/schema")


def database_for(households: int | None) -> Any:
    return bench_dir() / f"pages-{households or 'default'}-seed{SEED}.sqlite3"


def run(scale: str, out: TextIO) -> dict[str, Any]:
    sizes = SIZES[scale]
    pg = postgres_url()
    results: dict[str, Any] = {}
    for size in sizes:
        db = database_for(size)
        kwargs = {"households": size, "repeat": REPEAT[scale]}
        if pg is None:
            out.write(f"  {size or 'default'} households ({'reuse' if db.exists() else 'build'} {db.name}) …\n")
            results[str(size)] = run_child("bench.pages:measure", kwargs, database=db, out=out)
            continue
        with postgres_database(pg, f"pages_{size or 'default'}_seed{SEED}", keep=True) as (url, existed):
            name = url.rsplit("/", 1)[1]
            out.write(f"  {size or 'default'} households ({'reuse' if existed else 'build'} PostgreSQL {name}) …\n")
            results[str(size)] = run_child("bench.pages:measure", kwargs, database=db, out=out, database_url=url)
            results[str(size)]["database_name"] = name
    small, big = (results[str(s)] for s in sizes)
    staff = {k: v for k, v in small["pages"].items() if not k.startswith("anonymous ")}
    worst = max(staff.items(), key=lambda kv: kv[1]["ratio"])
    most = max(small["pages"].items(), key=lambda kv: kv[1]["queries"])
    most_big = max(big["pages"].items(), key=lambda kv: kv[1]["queries"])
    differ = sorted(k for k in small["pages"] if k in big["pages"]
                    and small["pages"][k]["queries"] != big["pages"][k]["queries"])
    checks = [
        check(f"slowest staff page / floor ({worst[0]})", worst[1]["ratio"], f"≤ {STAFF_RATIO}",
              worst[1]["ratio"] <= STAFF_RATIO),
        check(f"most queries, default size ({most[0]})", most[1]["queries"], f"≤ {MAX_QUERIES}",
              most[1]["queries"] <= MAX_QUERIES),
        check(f"most queries, 10× size ({most_big[0]})", most_big[1]["queries"], f"≤ {MAX_QUERIES}",
              most_big[1]["queries"] <= MAX_QUERIES),
        check("pages whose query count differs between the sizes", len(differ), "= 0", not differ),
    ]
    for r, size in ((small, sizes[0]), (big, sizes[1])):
        ratio = r["board_throughput"] / r["healthz_throughput"]
        checks.append(check(f"board / healthz throughput, 8 threads ({size or 'default'})", ratio,
                            f"≥ {BOARD_RATIO}", ratio >= BOARD_RATIO))
    figures: dict[str, Any] = {
        "database": small["database"],
        "floor (whoami) ms": small["floor_ms"],
        "floor range ms (default)": " – ".join(f"{x:.1f}" for x in small["floor_range_ms"]),
        "pages measured": len(small["pages"]),
        "query counts that differ": ", ".join(differ[:10]),
        "board req/s / healthz req/s (default)": f"{small['board_throughput']:.0f} / {small['healthz_throughput']:.0f}",
    }
    return {"checks": checks, "figures": figures, "details": results, "database": small["database"]}


def _build(households: int | None) -> None:
    from hemei.regions.demo import demo_build

    demo_build(households=households, seed=SEED, stdout=_Stdout())


def _api_lists() -> list[str]:
    """The `api/v1/` routes that take no parameter (lists and the like)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: list[str] = []

    def walk(patterns: Any, prefix: str) -> None:
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern):
                full = prefix + route
                if full.startswith("api/v1/") and "<" not in full and "(?P" not in full and full.endswith("/"):
                    found.append("/" + full.lstrip("^").replace("\\Z", "").replace("$", ""))

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def _time(client: Any, url: str, repeat: int) -> dict[str, Any] | None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    # Counted now: the captured list is a slice of the connection's log, which every next
    # request clears (Django's request_started → reset_queries), so it would read 0 later.
    count = len(queries)
    if response.status_code != 200:
        return None
    seconds = median_seconds(lambda: client.get(url), repeat=repeat, warmup=1)
    return {"ms": round(seconds * 1000, 2), "queries": count, "bytes": len(response.content)}


def _throughput(url: str, *, threads: int = 8, requests: int = 200) -> float:
    from django.db import connections
    from django.test import Client

    def work(n: int) -> None:
        client = Client()
        for _ in range(n):
            client.get(url)
        connections.close_all()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, [requests // threads] * threads))
    return requests / (time.perf_counter() - started)


def measure(*, households: int | None, repeat: int) -> dict[str, Any]:
    """In the child (DATABASE_URL = this size's file or database): build if needed, then open
    every page."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from hemei.accounts.models import User
    from hemei.regions.demo import PERSONAS
    from hemei.regions.models import Household

    setup_test_environment()
    if not Household.objects.exists():
        _build(households)
    floor_client = Client()
    floor_client.force_login(User.objects.get(username="grid1"))

    def floor_ms() -> float:
        # Measured again before each persona's pages: on a shared machine the load moves
        # within a run, and one floor taken at the start made every later ratio follow it.
        timed = _time(floor_client, "/api/v1/whoami/", repeat * 3)
        assert timed is not None
        return float(timed["ms"])

    floors: list[float] = []
    pages: dict[str, Any] = {}
    apis = _api_lists()
    for persona in PERSONAS:
        user = User.objects.filter(username=persona.username).first()
        if user is None:
            continue
        client = Client()
        client.force_login(user)
        start = client.get("/", follow=True)
        nav = NAV.search(start.content.decode())
        links = sorted({h for h in HREF.findall(nav.group(1) if nav else "") if not h.startswith(SKIP)})
        floors.append(floor := floor_ms())
        for url in [*links, *apis]:
            timed = _time(client, url, repeat)
            if timed is not None:
                timed["ratio"] = round(timed["ms"] / floor, 2)
                timed["floor_ms"] = floor
                pages[f"{persona.username} {url}"] = timed
    anonymous = Client()
    from hemei.disclosure.board import BOARD_SECTIONS

    floors.append(floor := floor_ms())
    for url in [f"/v/{VILLAGE}/", *(f"/v/{VILLAGE}/{key}/" for key in BOARD_SECTIONS), "/healthz"]:
        timed = _time(anonymous, url, repeat)
        if timed is not None:
            timed["ratio"] = round(timed["ms"] / floor, 2)
            timed["floor_ms"] = floor
            pages[f"anonymous {url}"] = timed
    return {
        "database": connection.vendor,  # what the child ran on, not what the parent asked for
        "households": Household.objects.count(),
        "floor_ms": statistics.median(floors),
        "floor_range_ms": [min(floors), max(floors)],
        "pages": pages,
        **_board_rounds(),
    }


def _board_rounds(rounds: int = 3) -> dict[str, Any]:
    """The board and /healthz under 8 threads, `rounds` pairs; the figures of the median pair."""
    pairs = [(_throughput(f"/v/{VILLAGE}/"), _throughput("/healthz")) for _ in range(rounds)]
    board, healthz = sorted(pairs, key=lambda p: p[0] / p[1])[rounds // 2]
    return {"board_throughput": round(board, 1), "healthz_throughput": round(healthz, 1),
            "board_rounds": [[round(b, 1), round(h, 1)] for b, h in pairs]}


class _Stdout:
    def write(self, text: str) -> None:
        print(text, end="", flush=True)

    def flush(self) -> None:
        pass
