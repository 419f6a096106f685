"""Every link in the top bar leads somewhere for the person who sees it: no menu entry
answers 404 or 403 for a role it is shown to, and villagers see their own links only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from hemei.regions.models import Role
from tests.conftest import World, make_user

NAV = re.compile(r"<nav>(.*?)</nav>", re.S)
HREF = re.compile(r'href="(/[^"]*)"')


def _nav_links(client: Any, start: str) -> list[str]:
    page = client.get(start, follow=True).content.decode()
    nav = NAV.search(page)
    assert nav is not None
    return sorted({h for h in HREF.findall(nav.group(1)) if not h.startswith(("/logout", "/i18n"))})


# The roles that see fewer entries than a village secretary (who reaches every page, each
# tested on its own elsewhere): a grid worker, the township, the shop keeper, the supervisor.
@pytest.mark.parametrize("persona", ["grid_a", "township", "shop", "supervision"])
def test_every_menu_link_opens_for_the_staff_who_see_it(world: World, client: Any, persona: str) -> None:
    if persona == "supervision":
        user = make_user(persona, region=world.village, role=getattr(Role, persona.upper()))
    else:
        user = world.user(persona)
    client.force_login(user)
    links = _nav_links(client, reverse("workbench"))
    assert reverse("case-list") in links and len(links) >= 8
    broken = {}
    for href in links:
        status = client.get(href, follow=True).status_code  # /w/ sends township staff to the dashboard
        if status != 200:
            broken[href] = status
    assert broken == {}, f"{persona}: {broken}"


def test_villager_menu_and_home_links_open(world: World, client: Any) -> None:
    client.force_login(world.user("villager"))
    links = _nav_links(client, reverse("villager-home"))
    assert reverse("my-points") in links and reverse("workbench") not in links
    home = client.get(reverse("villager-home")).content.decode()
    targets = [h for h in HREF.findall(home) if h.startswith(("/me/", "/v/"))]
    assert reverse("my-stars") in targets and reverse("village-board", args=[world.village.code]) in targets
    for href in set(links) | set(targets):
        assert client.get(href).status_code == 200, href
