"""`hemei workflows`: every registered workflow as Markdown tables of states and moves.

docs/workflows.md is this command's output (`hemei workflows > docs/workflows.md`); a test
fails when the two differ, so the docs follow the tables in the code."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hemei.core.workflow import load_all, render_markdown


class Command(BaseCommand):
    help = "Print every workflow (states, moves, who may make them) as Markdown."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help="Only these workflows (e.g. cases.case).")

    def handle(self, *args: Any, **options: Any) -> None:
        registry = load_all()
        if not options["names"]:
            self.stdout.write(render_markdown(), ending="")  # all of them, and the fields that are not workflows
            return
        names = options["names"]
        unknown = [n for n in names if n not in registry]
        if unknown:
            self.stderr.write(f"unknown workflow(s): {', '.join(unknown)}; known: {', '.join(sorted(registry))}")
            raise SystemExit(2)
        self.stdout.write(render_markdown([registry[n] for n in names]), ending="")
