"""The demo county: 晋源区 (140110) with 西邵村 as the seeds describe it.

西邵村 ("1+5+N": 448 households in 5 grids, each led by a 两委 member, 63 party members) sits
in 姚村镇 beside other villages and townships, filled with synthetic but plausible people.
Everything comes from one `random.Random(seed)` and fixed dates, so the same seed gives the
same names, ID numbers and phones, and docs/demo.md is regenerated identically.

The same builder makes the benchmark counties (`households=1_000_000`): households and
residents are generated as rows and inserted in batches, never through per-row services,
and the build leaves one "import" audit row.

Modules: `data` (codes and word lists), `plan` (the region tree), `people` (households and
persons), `rows` (rows and their fast insert), `personas` (demo logins), `build`
(`demo_build`), `docs` (docs/demo.md).
"""

from hemei.regions.demo.build import DemoSummary, demo_build, demo_exists, resident_digest
from hemei.regions.demo.data import (
    COUNTY,
    DEFAULT_PASSWORD,
    DEFAULT_SEED,
    XISHAO_CODE,
    XISHAO_GRIDS,
    XISHAO_HOUSEHOLDS,
    XISHAO_PARTY_MEMBERS,
)
from hemei.regions.demo.docs import demo_markdown, logins_table
from hemei.regions.demo.personas import PERSONAS, DemoLogin, Persona

__all__ = [
    "COUNTY",
    "DEFAULT_PASSWORD",
    "DEFAULT_SEED",
    "PERSONAS",
    "XISHAO_CODE",
    "XISHAO_GRIDS",
    "XISHAO_HOUSEHOLDS",
    "XISHAO_PARTY_MEMBERS",
    "DemoLogin",
    "DemoSummary",
    "Persona",
    "demo_build",
    "demo_exists",
    "demo_markdown",
    "logins_table",
    "resident_digest",
]
