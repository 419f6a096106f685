"""No function of the product is graded E or F by radon (cyclomatic complexity above 30):
such a function has more paths than anyone reviews or tests. The demo builders are exempt —
they are long, straight scripts of sample data, not logic."""

from __future__ import annotations

import re
from pathlib import Path

from radon.complexity import cc_rank, cc_visit

ROOT = Path(__file__).resolve().parent.parent / "hemei"
EXEMPT_FILES = {"demo.py"}
EXEMPT_DIRS = {"demo", "migrations"}


def _graded() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name in EXEMPT_FILES or EXEMPT_DIRS & set(path.relative_to(ROOT).parts[:-1]):
            continue
        for block in cc_visit(path.read_text(encoding="utf-8")):
            if cc_rank(block.complexity) in "EF":
                found.append(f"{path.relative_to(ROOT.parent)}:{block.lineno} {block.fullname} ({block.complexity})")
    return found


def test_no_function_is_graded_e_or_f() -> None:
    assert _graded() == []


def test_the_check_finds_a_complex_function(tmp_path: Path) -> None:
    branches = "\n".join(f"    if x == {i}:\n        return {i}" for i in range(40))
    blocks = cc_visit(f"def f(x):\n{branches}\n    return -1\n")
    assert cc_rank(blocks[0].complexity) == "F"


# POST data is read through forms or serializers (issue 10): a raw read skips the lenient
# parsing (`hemei.core.parsing.form_values`) that keeps malformed values from a 500 or a write.
RAW_POST = re.compile(r"request\.POST(\[|\.get\(|\.getlist\(|\.items\(|\.dict\()")


def _raw_post_reads(root: Path) -> list[str]:
    return [f"{path.relative_to(root.parent)}:{n}" for path in sorted(root.rglob("*.py"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if RAW_POST.search(line)]


def test_no_view_reads_request_post_by_hand() -> None:
    assert _raw_post_reads(ROOT) == []


def test_the_check_finds_a_raw_read(tmp_path: Path) -> None:
    (tmp_path / "hemei").mkdir()
    (tmp_path / "hemei" / "views.py").write_text('x = request.POST.get("key", "")\nform = F(request.POST)\n')
    assert _raw_post_reads(tmp_path / "hemei") == ["hemei/views.py:1"]
