"""The public board's cache and paging: a write shows at once (version keys), a cached page
costs two queries, pages stay short, and each section's query count does not grow with the data."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hemei.assets.models import Asset
from hemei.assets.services import AssetData, asset_create
from hemei.cases.models import Category
from hemei.cases.services import case_submit
from hemei.core import freshness
from hemei.core.scope import SYSTEM
from hemei.disclosure import finance
from hemei.regions.models import Role
from tests.conftest import World, make_user
from tests.test_board import published
from tests.test_stars_pages import _awarded, frozen  # noqa: F401 - the fixture


@pytest.fixture
def supervisor(world: World) -> Any:
    return make_user("supervisor", region=world.village, role=Role.SUPERVISION)


def _get(client: Any, url: str) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode(), len(queries.captured_queries)


def _asset(world: World, code: str, name: str, status: str = Asset.Status.IDLE) -> Asset:
    data = AssetData(code=code, name=name, category=Asset.Category.OPERATING, area=Decimal("10.00"))
    return asset_create(actor=SYSTEM, village=world.village, data=data, status=status)


def test_a_cached_page_costs_one_query_and_a_publication_shows_at_once(
    world: World, supervisor: Any, client: Any
) -> None:
    code = world.village.code
    published(world, supervisor, title="第一份公开", body="正文一")
    for url in (f"/v/{code}/", f"/v/{code}/disclosures/"):
        first, _n = _get(client, url)
        again, n = _get(client, url)
        main = first[first.index("<main"):]
        assert again[again.index("<main"):] == main and n == 1, url  # the versions (the village is cached)
    published(world, supervisor, title="第二份公开", body="正文二")
    assert "第二份公开" in _get(client, f"/v/{code}/")[0]
    assert "正文二" in _get(client, f"/v/{code}/disclosures/")[0]


def test_finance_cases_and_assets_show_a_write_at_once(world: World, client: Any, migration_seeds: None) -> None:
    code = world.village.code
    pages = {key: _get(client, f"/v/{code}/{key}/")[0] for key in ("finance", "cases", "assets")}
    accountant = make_user("accountant", region=world.village, role=Role.ACCOUNTANT)
    finance.annual_income_set(actor=accountant, village=world.village, year=2026, amount=Decimal("1949000"))
    assert "194.9" not in pages["finance"] and "194.9" in _get(client, f"/v/{code}/finance/")[0]
    category = Category.objects.filter(county__isnull=True).first()
    assert category is not None
    case_submit(actor=world.user("villager"), region=world.grid_a, category=category, title="路灯坏了",
                description="村口路灯不亮", source="villager", household=world.house_a, reporter=world.head_a)
    assert "<b>0</b>" in pages["cases"] and "<b>1</b>" in _get(client, f"/v/{code}/cases/")[0]
    _asset(world, "XS-9", "旧粮站")
    assert "旧粮站" not in pages["assets"] and "旧粮站" in _get(client, f"/v/{code}/assets/")[0]


def test_stars_show_once_awarded(world: World, client: Any, frozen: Any) -> None:  # noqa: F811
    code = world.village.code
    before = _get(client, f"/v/{code}/stars/")[0]
    _awarded(world)
    after = _get(client, f"/v/{code}/stars/")[0]
    assert "王建国" not in before and "王建国" in after and "孝老爱亲" in after


def test_a_write_in_another_village_keeps_the_cache(world: World, supervisor: Any, client: Any) -> None:
    code = world.village.code
    _get(client, f"/v/{code}/assets/")
    asset_create(actor=SYSTEM, village=world.village2, data=AssetData(
        code="DS-1", name="东邵旧校舍", category=Asset.Category.OPERATING, area=Decimal("1.00")))
    assert _get(client, f"/v/{code}/assets/")[1] == 1  # the versions only


def test_pages_are_short_and_link_to_each_other(world: World, supervisor: Any, client: Any) -> None:
    code = world.village.code
    for i in range(23):
        _asset(world, f"XS-{i:02d}", f"闲置房屋{i:02d}")
    first = _get(client, f"/v/{code}/assets/")[0]
    second = _get(client, f"/v/{code}/assets/?page=2")[0]
    assert "闲置房屋00" in first and "闲置房屋19" in first and "闲置房屋20" not in first
    assert 'rel="next" href="?page=2"' in first and 'rel="prev"' not in first
    assert "闲置房屋20" in second and "闲置房屋22" in second and 'rel="next"' not in second
    assert "闲置房屋00" not in _get(client, f"/v/{code}/assets/?page=3")[0]
    for i in range(12):
        published(world, supervisor, title=f"公开第{i:02d}号", body="正文")
    page = _get(client, f"/v/{code}/disclosures/")[0]
    assert page.count('class="item"') == 10 and 'href="?page=2"' in page
    assert _get(client, f"/v/{code}/disclosures/?page=2")[0].count('class="item"') == 2
    assert 'href="?page=2&amp;year=2026"' in _get(client, f"/v/{code}/disclosures/?year=2026")[0]
    assert len(_get(client, f"/v/{code}/")[0]) < 20_000


def _cold(client: Any, url: str) -> int:
    from django.core.cache import cache

    cache.clear()
    return _get(client, url)[1]


def test_each_sections_query_count_does_not_grow_with_the_data(
    world: World, supervisor: Any, client: Any, migration_seeds: None
) -> None:
    code = world.village.code
    urls = [f"/v/{code}/", *(f"/v/{code}/{key}/" for key in ("disclosures", "finance", "cases", "points", "stars",
                                                               "courtyard", "assets", "contracts"))]
    published(world, supervisor, title="公开", body="正文")
    _asset(world, "XS-A", "闲置一")
    small = {url: _cold(client, url) for url in urls}
    for i in range(6):
        published(world, supervisor, title=f"再公开{i}", body="正文")
        _asset(world, f"XS-{i}", f"闲置{i}")
    category = Category.objects.filter(county__isnull=True).first()
    assert category is not None
    for i in range(3):
        case_submit(actor=world.user("villager"), region=world.grid_a, category=category, title=f"诉求{i}",
                    description="内容", source="villager", household=world.house_a, reporter=world.head_a)
    large = {url: _cold(client, url) for url in urls}
    assert large == small
    summary = large.pop(urls[0])
    assert summary <= 20 and max(large.values()) <= 8


def test_touch_bumps_only_the_places_given(db: Any) -> None:
    freshness.touch("demo", 1, 2, 2, None)
    freshness.touch("demo", 2)
    assert freshness.versions([1, 2, 3]) == {("demo", 1): 1, ("demo", 2): 2}


def test_a_stranger_gets_the_whole_page_from_the_cache_with_their_own_csrf_token(
    world: World, supervisor: Any, client: Any
) -> None:
    """The whole page is cached for visitors without a session (the shell cost more than the
    cached section); each still gets a token of their own for the language form, a signed-in
    user still gets their own menu, and a publication shows at once."""
    from django.test import Client

    from hemei.disclosure.views_board import CSRF_SLOT

    code = world.village.code
    published(world, supervisor, title="第一份公开", body="正文一")
    first, _n = _get(client, f"/v/{code}/")
    other = Client(enforce_csrf_checks=True)  # the language form must work with the token it got
    second, n = _get(other, f"/v/{code}/")
    assert n == 1 and CSRF_SLOT not in second  # the versions (the village is cached)
    tokens = [re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1) for html in (first, second)]
    assert tokens[0] != tokens[1]
    assert other.post("/i18n/setlang/", {"language": "en", "next": f"/v/{code}/",
                                         "csrfmiddlewaretoken": tokens[1]}).status_code == 302
    signed_in = Client()
    signed_in.force_login(supervisor)
    mine = signed_in.get(f"/v/{code}/").content.decode()
    assert "logout" in mine and "logout" not in second
    published(world, supervisor, title="第二份公开", body="正文二")
    assert "第二份公开" in _get(Client(), f"/v/{code}/")[0]


def test_the_village_is_cached_as_long_as_the_renderings_and_a_rename_shows_after(
    world: World, client: Any, settings: Any
) -> None:
    import time_machine

    from hemei.regions.models import Region

    code = world.village.code
    old_name = world.village.name
    assert old_name in _get(client, f"/v/{code}/")[0]
    Region.objects.filter(pk=world.village.pk).update(name="新名村")
    # A section not rendered yet still shows the cached place (the name in its heading).
    assert old_name in _get(client, f"/v/{code}/disclosures/")[0]
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=settings.HEMEI_BOARD_CACHE_SECONDS + 1)):
        assert "新名村" in _get(client, f"/v/{code}/disclosures/")[0]
    assert client.get("/v/999999999999/").status_code == 404  # no village: not cached, still 404
