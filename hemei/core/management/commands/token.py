from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hemei.accounts.models import User
from hemei.accounts.services import token_issue
from hemei.core.scope import system


class Command(BaseCommand):
    help = "Print the API token of USERNAME (created on first use; audited)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no such user: {options['username']}")
        self.stdout.write(token_issue(user=user, actor=system("hemei token")))
