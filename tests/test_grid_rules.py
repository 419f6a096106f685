"""Rules (issue 11, item 11): a grid over the rule's size (about 300 households, at most 2,500
people; settings) is flagged on the workbench of its grid worker and secretary and by
`hemei verify` as a notice (which does not fail verify)."""

from __future__ import annotations

import pytest

from hemei.core.verify import run_all, run_notices
from hemei.regions.selectors import oversized_grids


def test_grids_within_the_rule_are_not_flagged(world):
    assert oversized_grids() == []
    assert run_notices()["grid-size"] == []


def test_a_grid_over_the_household_limit_is_a_notice(world, settings):
    settings.HEMEI_GRID_MAX_HOUSEHOLDS = 0  # every grid with a household is "too big"
    flagged = {g.grid.code: (g.households, g.people) for g in oversized_grids()}
    assert flagged == {world.grid_a.code: (1, 2), world.grid_b.code: (1, 1), world.grid_c.code: (1, 1)}
    notices = run_notices()["grid-size"]
    assert len(notices) == 3 and world.grid_a.code in notices[0]
    assert "grid-size" not in run_all()  # a notice, not a violation


def test_a_grid_over_the_people_limit_is_flagged_only_by_people(world, settings):
    settings.HEMEI_GRID_MAX_PEOPLE = 1
    assert [g.grid.code for g in oversized_grids()] == [world.grid_a.code]  # 2 living residents


@pytest.mark.parametrize("persona", ["grid_a", "secretary"])
def test_the_workbench_shows_the_notice(world, client, settings, persona):
    settings.HEMEI_GRID_MAX_PEOPLE = 1
    client.force_login(world.user(persona))
    page = client.get("/w/").content.decode()
    assert 'id="grid-size-notice"' in page and world.grid_a.code in page


def test_the_grid_worker_of_a_small_grid_sees_no_notice(world, client, settings):
    settings.HEMEI_GRID_MAX_PEOPLE = 1
    client.force_login(world.user("grid_b"))
    assert 'id="grid-size-notice"' not in client.get("/w/").content.decode()
