from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from hemei.core.verify import run_all, run_notices


class Command(BaseCommand):
    help = (
        "Check every invariant (region tree, codes, places, ID numbers, posts, audit guard). "
        "Exit 1 on any violation."
    )

    def handle(self, *args: Any, **options: Any) -> None:
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
