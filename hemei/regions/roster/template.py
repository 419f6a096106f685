"""The roster file format: column headers, accepted words, and the empty template workbook.

The template (documented in docs/roster.md) has one row per resident with the Chinese
headers in `ROSTER_HEADERS`; extra columns are ignored and the order is free.
"""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

# FORMULA_PREFIXES, XLSX_MAGIC and neutralise moved to hemei.core.xlsx; still importable from here.
from hemei.core.xlsx import FORMULA_PREFIXES, XLSX_MAGIC, neutralise  # noqa: F401
from hemei.regions.models import Resident

COL_NUMBER = "户号"
COL_NAME = "姓名"
COL_RELATION = "与户主关系"
COL_ID = "公民身份号码"
COL_PHONE = "联系电话"
COL_GRID = "网格编码"
COL_TAGS = "户类型"
COL_PARTY = "是否党员"

ROSTER_HEADERS: tuple[str, ...] = (
    COL_NUMBER, COL_NAME, COL_RELATION, COL_ID, COL_PHONE, COL_GRID, COL_TAGS, COL_PARTY,
)
REQUIRED_COLUMNS: tuple[str, ...] = (COL_NUMBER, COL_NAME, COL_RELATION, COL_ID, COL_GRID)
# Optional columns: when the column is absent the stored value is left alone; when it is
# present, a blank cell means "none" (no phone, no household type, not a party member).
OPTIONAL_COLUMNS: tuple[str, ...] = (COL_PHONE, COL_TAGS, COL_PARTY)

SHEET_NAME = "名册"
HELP_SHEET_NAME = "说明"

R = Resident.Relation
RELATION_WORDS: dict[str, str] = {
    "户主": R.HEAD, "本人": R.HEAD,
    "配偶": R.SPOUSE, "妻": R.SPOUSE, "妻子": R.SPOUSE, "夫": R.SPOUSE, "丈夫": R.SPOUSE,
    "子": R.CHILD, "女": R.CHILD, "儿子": R.CHILD, "女儿": R.CHILD, "子女": R.CHILD,
    "长子": R.CHILD, "次子": R.CHILD, "长女": R.CHILD, "次女": R.CHILD,
    "独生子": R.CHILD, "独生女": R.CHILD, "养子": R.CHILD, "养女": R.CHILD,
    "继子": R.CHILD, "继女": R.CHILD,
    "父亲": R.PARENT, "母亲": R.PARENT, "父母": R.PARENT, "父": R.PARENT, "母": R.PARENT,
    "孙子": R.GRANDCHILD, "孙女": R.GRANDCHILD, "孙子女": R.GRANDCHILD,
    "外孙子": R.GRANDCHILD, "外孙女": R.GRANDCHILD, "外孙": R.GRANDCHILD,
    "孙子孙女": R.GRANDCHILD,
    "祖父": R.GRANDPARENT, "祖母": R.GRANDPARENT, "祖父母": R.GRANDPARENT,
    "外祖父": R.GRANDPARENT, "外祖母": R.GRANDPARENT, "外祖父母": R.GRANDPARENT,
    "爷爷": R.GRANDPARENT, "奶奶": R.GRANDPARENT, "姥爷": R.GRANDPARENT, "姥姥": R.GRANDPARENT,
    "兄弟姐妹": R.SIBLING, "兄弟": R.SIBLING, "姐妹": R.SIBLING, "兄": R.SIBLING,
    "弟": R.SIBLING, "姐": R.SIBLING, "妹": R.SIBLING, "哥哥": R.SIBLING, "弟弟": R.SIBLING,
    "姐姐": R.SIBLING, "妹妹": R.SIBLING,
    "儿媳": R.CHILD_IN_LAW, "儿媳妇": R.CHILD_IN_LAW, "女婿": R.CHILD_IN_LAW,
    "子女配偶": R.CHILD_IN_LAW,
    "其他": R.OTHER, "其它": R.OTHER,
}
# The stored codes are accepted too, so a file written by another tool can use them.
RELATION_WORDS.update({value: value for value in R.values})

# Export writes the natural word for the resident's sex; every word maps back to the same
# relation on import, so an export re-imports without changes.
EXPORT_RELATION_WORDS: dict[str, tuple[str, str]] = {
    R.HEAD: ("户主", "户主"),
    R.SPOUSE: ("配偶", "配偶"),
    R.CHILD: ("子", "女"),
    R.PARENT: ("父亲", "母亲"),
    R.GRANDCHILD: ("孙子", "孙女"),
    R.GRANDPARENT: ("祖父", "祖母"),
    R.SIBLING: ("兄弟", "姐妹"),
    R.CHILD_IN_LAW: ("女婿", "儿媳"),
    R.OTHER: ("其他", "其他"),
}

YES_WORDS = frozenset({"是", "1", "y", "yes", "true", "党员", "√"})
NO_WORDS = frozenset({"否", "0", "n", "no", "false", "群众", "", "×"})
TAG_SPLIT = re.compile(r"[,，、;；/\s]+")

COLUMN_WIDTHS = {COL_NUMBER: 10, COL_NAME: 12, COL_RELATION: 12, COL_ID: 22, COL_PHONE: 15,
                 COL_GRID: 18, COL_TAGS: 20, COL_PARTY: 10}


# The template's own help text is Chinese: the file goes to village clerks as it is.
TEMPLATE_HELP: tuple[tuple[str, str, str, str], ...] = (
    (COL_NUMBER, "必填",
     "本村内唯一的户编号（文本，保留前导零）；同一户的每个成员填写相同户号", "001"),
    (COL_NAME, "必填", "姓名，最多 50 字", "王建国"),
    (COL_RELATION, "必填", "户主、配偶、子、女、父亲、母亲、孙子、孙女、祖父、祖母、兄弟、姐妹、"
                           "儿媳、女婿、其他 等；每户最多一名户主", "户主"),
    # The example's check digit is wrong on purpose: a made-up number that passes could be a
    # real person's, and a copied example row must never become a resident.
    (COL_ID, "必填", "18 位公民身份号码（文本格式，末位可为 X）；校验码和出生日期必须正确，"
                     "同一号码只能出现一次（示例号码的校验码故意写错，不能导入）", "140110197005061230"),
    (COL_PHONE, "选填", "11 位手机号；留空表示无", "13800001111"),
    (COL_GRID, "必填", "15 位网格编码，必须属于导入时选择的区域", "140110101201001"),
    (COL_TAGS, "选填",
     "户类型名称，多个用顿号或逗号分隔，如 脱贫户、低保户；留空表示无", "脱贫户、低保户"),
    (COL_PARTY, "选填", "是 / 否（也可填 1/0、Y/N）；留空表示否", "否"),
)


def roster_template() -> bytes:
    """An empty roster sheet with the headers, and a "说明" sheet explaining each column."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET_NAME
    bold = Font(bold=True)
    sheet.append(list(ROSTER_HEADERS))
    for index, header in enumerate(ROSTER_HEADERS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = COLUMN_WIDTHS[header]
        # Text format so Excel keeps leading zeros and all 18 digits of ID numbers.
        for row in range(2, 1002):
            sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    help_sheet = workbook.create_sheet(HELP_SHEET_NAME)
    help_sheet.append(["列名", "是否必填", "格式", "示例"])
    for cell in help_sheet[1]:
        cell.font = bold
    for column, required, fmt, example in TEMPLATE_HELP:
        help_sheet.append([column, required, fmt, example])
    help_sheet.append([])
    help_sheet.append(["示例行（复制到“名册”表）"])
    help_sheet.append(list(ROSTER_HEADERS))
    help_sheet.append([example for _c, _r, _f, example in TEMPLATE_HELP])
    for letter, width in zip("ABCD", (14, 10, 70, 22), strict=True):
        help_sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
