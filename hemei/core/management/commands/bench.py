"""`hemei bench [NAME ...] [--scale small|full]`: run the benchmarks in bench/.

Every module in the top-level bench/ package with a `run(scale, out)` function is a
benchmark, named by its file name with dashes. Results go to the console as a table and to
<out>/<name>.json (default var/bench/). See docs/benchmarks.md for what each one measures.

`--internal module:function --internal-args JSON` is the child-process side used by the
benchmarks that need their own database (the parent sets DATABASE_URL); it prints one
result line and is not meant to be called by hand.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import pkgutil
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


def _bench_package() -> ModuleType:
    # `hemei` is an installed console script: the project root (where bench/ lives) is not
    # necessarily on sys.path.
    root = str(settings.BASE_DIR)
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module("bench")


def discover() -> dict[str, ModuleType]:
    """Benchmark name → module, for every bench/*.py with a run() function."""
    package = _bench_package()
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if callable(getattr(module, "run", None)):
            found[info.name.replace("_", "-")] = module
    return found


class Command(BaseCommand):
    help = "Run the benchmarks in bench/ and write var/bench/<name>.json (see docs/benchmarks.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "names",
            nargs="*",
            metavar="NAME",
            help="benchmarks to run (default: all); --list shows them",
        )
        parser.add_argument(
            "--scale",
            choices=["tiny", "small", "full"],
            default="full",
            help="full: the sizes the goals are about (a 1M-household county "
            "takes minutes to build the first time); small: quick check; "
            "tiny: smoke test of the machinery",
        )
        parser.add_argument(
            "--out",
            default=None,
            help="directory for results and reusable databases (default var/bench)",
        )
        parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
        parser.add_argument("--internal", default=None, help=_SUPPRESS)
        parser.add_argument("--internal-args", default="{}", help=_SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["out"]:
            # Children inherit it, so reusable databases land beside the results.
            os.environ["HEMEI_BENCH_DIR"] = str(Path(options["out"]).resolve())
        if options["internal"]:
            self._internal(options["internal"], options["internal_args"])
            return
        benchmarks = discover()
        if options["list"]:
            for name, module in benchmarks.items():
                summary = (module.__doc__ or "").strip().splitlines()[0].removeprefix(f"{name}:").strip()
                self.stdout.write(f"{name:<16} {summary}")
            return
        names = options["names"] or list(benchmarks)
        unknown = [n for n in names if n not in benchmarks]
        if unknown:
            raise CommandError(f"Unknown benchmark(s): {', '.join(unknown)}. Known: {', '.join(benchmarks)}")
        package = _bench_package()
        out_dir = package.bench_dir()
        out_dir.mkdir(parents=True, exist_ok=True)
        scale: str = options["scale"]
        machine = package.machine()
        self.stdout.write(f"Benchmarks at scale {scale} on {machine['cpus']} CPUs ({machine['cpu']})")
        failed = 0
        for name in names:
            self.stdout.write(self.style.MIGRATE_HEADING(f"{name}"))
            started = time.perf_counter()
            result = benchmarks[name].run(scale, self.stdout)
            seconds = time.perf_counter() - started
            record = {
                "name": name,
                "scale": scale,
                "at": dt.datetime.now(dt.UTC).isoformat(),
                "seconds": round(seconds, 1),
                "machine": machine,
                **result,
            }
            path = out_dir / f"{name}.json"
            path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
            failed += self._table(result)
            self.stdout.write(f"  ({seconds:.0f} s; {path})")
        if failed:
            self.stdout.write(self.style.WARNING(f"{failed} goal(s) missed."))

    def _table(self, result: dict[str, Any]) -> int:
        """Print checks and figures; return the number of missed goals."""
        missed = 0
        rows = [
            (
                c["what"],
                f"{c['value']:g}",
                c["goal"],
                "info" if c["ok"] is None else "ok" if c["ok"] else "MISSED",
            )
            for c in result.get("checks", [])
        ]
        rows += [(label, str(value), "", "") for label, value in result.get("figures", {}).items()]
        width = max((len(r[0]) for r in rows), default=10)
        for what, value, goal, verdict in rows:
            line = f"  {what:<{width}}  {value:>12}  {goal:<20} {verdict}"
            if verdict == "MISSED":
                missed += 1
                line = self.style.ERROR(line)
            self.stdout.write(line.rstrip())
        return missed

    def _internal(self, target: str, raw_args: str) -> None:
        module_name, _sep, function = target.partition(":")
        if not module_name.startswith("bench.") or not function:
            raise CommandError("--internal takes bench.<module>:<function>")
        _bench_package()
        fn = getattr(importlib.import_module(module_name), function)
        result = fn(**json.loads(raw_args))
        package = sys.modules["bench"]
        self.stdout.write(package.RESULT_MARKER + json.dumps(result))


_SUPPRESS = "==SUPPRESS=="  # argparse.SUPPRESS: hidden from --help
