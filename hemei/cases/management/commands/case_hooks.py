"""`hemei case_hooks`: the outgoing case webhooks (hemei.cases.hooks), for operators."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from hemei.accounts.models import User
from hemei.cases import hooks
from hemei.cases.models import CaseHook
from hemei.core.views import error_text
from hemei.regions.management.commands._actor import add_actor_arguments, command_actor


class Command(BaseCommand):
    help = ("Outgoing case webhooks: `add OWNER URL` (prints the signing key once), `list`, "
            "`disable ID`, `deliver` (send what is waiting now; `hemei sweep` does it too).")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="follow the cases OWNER submits")
        add.add_argument("owner", help="the username of the account that hands cases over (its API token)")
        add.add_argument("url", help="https:// address that receives the events")
        add_actor_arguments(add)
        sub.add_parser("list", help="the hooks, their cursor and their last attempt")
        off = sub.add_parser("disable", help="stop a hook")
        off.add_argument("id", type=int)
        add_actor_arguments(off)
        sub.add_parser("deliver", help="send the waiting events now")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "add":
            owner = User.objects.filter(username=options["owner"]).first()
            if owner is None:
                raise CommandError(f"no such user: {options['owner']}")
            try:
                hook, key = hooks.hook_create(actor=command_actor(options), owner=owner, url=options["url"])
            except ValidationError as exc:
                raise CommandError(error_text(exc)) from None
            self.stdout.write(f"hook {hook.pk} follows the cases of {owner.username} → {hook.url}\n"
                              f"signing key (shown once): {key}")
        elif action == "list":
            for hook in CaseHook.objects.select_related("owner"):
                last = hook.attempts.order_by("-pk").first()
                tail = f"last {last.at:%Y-%m-%d %H:%M} {last.status or last.error}" if last else "no attempt yet"
                state = "active" if hook.active else "disabled"
                self.stdout.write(f"{hook.pk}\t{state}\t{hook.owner.username}\t{hook.url}\tcursor {hook.cursor}"
                                  f"\tfailures {hook.failures}\t{tail}")
        elif action == "disable":
            chosen = CaseHook.objects.filter(pk=options["id"]).first()
            if chosen is None:
                raise CommandError(f"no such hook: {options['id']}")
            hooks.hook_disable(actor=command_actor(options), hook=chosen)
            self.stdout.write(f"hook {chosen.pk} disabled")
        else:
            now = timezone.now()
            sent = sum(hooks.deliver_hook(h, now) for h in hooks.due_hooks(now))
            self.stdout.write(f"delivered {sent} events")
