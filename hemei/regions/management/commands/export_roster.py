"""`hemei export-roster FILE --region CODE [--reveal]`: write a region's roster to xlsx.

The file uses the import template, so a revealed export can be edited and imported again.
ID numbers and phones are masked unless --reveal is given (an operator decision, recorded
in the export's audit row like every export).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from hemei.accounts.models import User
from hemei.regions.access import scope_for
from hemei.regions.management.commands._actor import add_actor_arguments, command_actor
from hemei.regions.models import Region
from hemei.regions.roster import roster_export


class Command(BaseCommand):
    help = ("Export the living residents of a region (and below) to an xlsx roster in the "
            "import template. ID numbers and phones are masked unless --reveal.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .xlsx file to write")
        parser.add_argument("--region", required=True, help="code of the region to export")
        parser.add_argument("--reveal", action="store_true",
                            help="write full ID numbers and phones (audited); needed to edit "
                                 "and re-import the file")
        parser.add_argument("--only-region", action="store_true",
                            help="only residents registered directly at this region, not below")
        add_actor_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        region = Region.objects.filter(code=options["region"]).first()
        if region is None:
            raise CommandError(_("Unknown region code %(code)s.") % {"code": options["region"]})
        path = Path(options["file"])
        if path.suffix.lower() != ".xlsx":
            raise CommandError(_("The file name must end in .xlsx."))
        actor = command_actor(options)
        reveal = options["reveal"]
        if isinstance(actor, User):
            scope = scope_for(actor)
            if not scope.covers_path(region.path, write=True):
                raise CommandError(_("This region is outside your posts."))
            if reveal and not scope.can_reveal:
                raise CommandError(_("You may not reveal personal data."))
        data = roster_export(region=region, reveal=reveal, actor=actor, include_sub=not options["only_region"])
        path.write_bytes(data)
        self.stdout.write(self.style.SUCCESS(
            _("Wrote %(path)s (%(size)d bytes).") % {"path": path, "size": len(data)}
        ))
