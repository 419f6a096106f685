"""`hemei demo`: build the deterministic demo county (晋源区 with 西邵村), once.

`make run` calls this on every start, so a database that already holds the demo county is
left alone and the command exits 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hemei.regions.demo import (
    DEFAULT_PASSWORD,
    DEFAULT_SEED,
    demo_build,
    demo_markdown,
    logins_table,
)

DOCS_PATH = Path(settings.BASE_DIR) / "docs" / "demo.md"


class Command(BaseCommand):
    help = "Build the deterministic demo county 晋源区 (140110) with 西邵村 and the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="build even when HEMEI_PRODUCTION=1 (a staging copy)"
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"random seed (default {DEFAULT_SEED}); same seed, same people",
        )
        parser.add_argument(
            "--households",
            type=int,
            default=None,
            help="total households in the county (default: about 5,000 in the "
            "named villages); e.g. 1000000 for the benchmarks",
        )
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=f"password of every demo login (default {DEFAULT_PASSWORD})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seed: int = options["seed"]
        households: int | None = options["households"]
        password: str = options["password"]
        if settings.PRODUCTION and not options.get("force"):
            # The demo creates a superuser with a published password.
            raise CommandError("Refusing to build the demo county on a production system (HEMEI_PRODUCTION=1).")
        if households is not None and households < 1:
            raise CommandError("--households must be positive.")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from None
        summary = demo_build(seed=seed, households=households, password=password, stdout=self.stdout)
        if not summary.created:
            self.stdout.write(
                f"The demo county 晋源区 (140110) already exists; nothing changed. "
                f"Logins: {DOCS_PATH.relative_to(settings.BASE_DIR)}"
            )
            return
        c = summary.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"Built 晋源区 (seed {seed}): {c.townships} townships, {c.villages} villages, "
                f"{c.grids} grids, {c.households:,} households, {c.residents:,} residents in "
                f"{summary.seconds:.1f} s ({summary.households_per_second:,.0f} households/s)."
            )
        )
        self.stdout.write(logins_table(summary))
        # Only the default build is documented: another seed or size would make the committed
        # page disagree with `make run`, and a chosen password must not land in the repository.
        if (seed, households, password) == (DEFAULT_SEED, None, DEFAULT_PASSWORD):
            DOCS_PATH.parent.mkdir(parents=True, exist_ok=True)
            DOCS_PATH.write_text(demo_markdown(summary), encoding="utf-8")
            self.stdout.write(f"Wrote {DOCS_PATH.relative_to(settings.BASE_DIR)}")
