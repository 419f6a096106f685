from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hemei.core.verify import run_all, run_notices


class Command(BaseCommand):
    help = (
        "Check every invariant (region tree, codes, places, ID numbers, posts, audit guard, hash chains). "
        "Exit 1 on any violation. With --chain CODE: that village's hash chains instead (docs/chain.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chain", metavar="CODE",
                            help="a village code: check its hash chains (points, disclosures, …) only")
        parser.add_argument("--json", action="store_true",
                            help="with --chain: print every link's canonical payload and hash as JSON, "
                            "for anyone to re-derive the chain (docs/chain.md)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["chain"]:
            self._chain(options["chain"], as_json=options["json"])
            return
        if options["json"]:
            raise CommandError("--json goes with --chain CODE")
        failed = 0
        for name, problems in run_all().items():
            if problems:
                failed += 1
                self.stdout.write(f"FAIL {name}")
                for p in problems:
                    self.stdout.write(f"     {p}")
            else:
                self.stdout.write(f"ok   {name}")
        for name, findings in run_notices().items():
            for finding in findings:
                self.stdout.write(f"note {name}: {finding}")
        if failed:
            self.stdout.write(f"{failed} invariant(s) violated")
            sys.exit(1)
        self.stdout.write("all invariants hold")

    def _chain(self, code: str, *, as_json: bool) -> None:
        from hemei.core import chain
        from hemei.regions.models import Level, Region

        village = Region.objects.filter(code=code, level=Level.VILLAGE).first()
        if village is None:
            raise CommandError(f"no village with code {code}")
        if as_json:
            out = {"village": village.code, "name": village.name, "chains": chain.export_village(village.pk)}
            self.stdout.write(json.dumps(out, ensure_ascii=False, indent=1))
            return
        heads = chain.heads_of(village.pk)
        failed = False
        for kind, spec in sorted(chain.CHAINS.items()):
            head = heads.get(kind)
            problems = chain.verify_chain(spec, village.pk, head)
            length, digest = (head.length, head.head_hash) if head else (0, chain.GENESIS_HASH)
            self.stdout.write(f"{'FAIL' if problems else 'ok  '} {kind}: {length} links, head {digest}")
            for p in problems:
                self.stdout.write(f"     {p}")
            failed = failed or bool(problems)
        if failed:
            sys.exit(1)
