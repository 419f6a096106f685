"""Points pages, phone-first: the villager's points and shop, the grid worker's proposals,
the committee's review queue with objections, and the shop keeper's counter. Thin: reads via
`hemei.points.access`, writes via the services; every form carries an idempotency key.

One module per page group; `hemei.points.urls` (and other apps) import the views from here."""

from hemei.points.views.common import _staff_villages, proposable_items
from hemei.points.views.counter import counter
from hemei.points.views.proposals import propose
from hemei.points.views.public_pages import public_print, public_ranking
from hemei.points.views.review_queue import review
from hemei.points.views.rule_pages import rule_version, rules_page
from hemei.points.views.shop_pages import (
    ledger_xlsx,
    reward_edit,
    reward_photo,
    rewards,
    shop_stats,
    shop_stats_xlsx,
)
from hemei.points.views.villager import my_objection, my_points, my_shop

__all__ = [
    "_staff_villages",
    "counter",
    "ledger_xlsx",
    "my_objection",
    "my_points",
    "my_shop",
    "proposable_items",
    "propose",
    "public_print",
    "public_ranking",
    "review",
    "reward_edit",
    "reward_photo",
    "rewards",
    "rule_version",
    "rules_page",
    "shop_stats",
    "shop_stats_xlsx",
]
