"""Every write to regions, households, residents, posts and accounts. Views, API, CLI and
imports call these; each is atomic, checks the actor's scope and leaves an audit row.

register.py: regions, households, residents, moves, reveals. posts.py: posts, staff and
villager accounts, 联户 links.
"""

from hemei.regions.services.posts import (
    household_link_create,
    post_assign,
    post_end,
    staff_account_create,
    villager_account_create,
    villager_username,
)
from hemei.regions.services.register import (
    PHONE_DIGITS,
    RESIDENT_EDITABLE,
    check_id_number,
    household_create,
    household_move,
    household_update,
    normalise_phone,
    personal_data_reveal,
    region_close,
    region_create,
    resident_create,
    resident_move,
    resident_set_status,
    resident_set_tags,
    resident_update,
)

__all__ = [
    "PHONE_DIGITS",
    "RESIDENT_EDITABLE",
    "check_id_number",
    "household_create",
    "household_link_create",
    "household_move",
    "household_update",
    "normalise_phone",
    "personal_data_reveal",
    "post_assign",
    "post_end",
    "region_close",
    "region_create",
    "resident_create",
    "resident_move",
    "resident_set_status",
    "resident_set_tags",
    "resident_update",
    "staff_account_create",
    "villager_account_create",
    "villager_username",
]
