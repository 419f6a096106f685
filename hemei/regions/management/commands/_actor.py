"""Who a roster command acts as (a module starting with "_" is not a command)."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import CommandError, CommandParser

from hemei.accounts.models import User
from hemei.core.scope import SystemActor, system


def add_actor_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--as", dest="as_user", metavar="USERNAME", default=None,
        help="act as this user: their posts limit the regions and their permission the reveal",
    )
    parser.add_argument(
        "--actor", default=None,
        help="name recorded in the audit log when acting as the operator (default cli:<login name>)",
    )


def command_actor(options: dict[str, Any]) -> User | SystemActor:
    """The user named by --as (scoped like the pages), or the operator: someone with shell
    access to the server and its database, recorded by name in the audit log."""
    if options.get("as_user"):
        user = User.objects.filter(username=options["as_user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no such active user: {options['as_user']}")
        return user
    if options.get("actor"):
        return system(str(options["actor"]))
    try:
        return system(f"cli:{getpass.getuser()}")
    except (KeyError, OSError):  # no user name in some containers
        return system("cli")
