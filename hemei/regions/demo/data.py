"""Fixed facts and word lists of the demo county: codes, sizes, dates, names."""

from __future__ import annotations

import datetime as dt

from hemei.core.scope import system

DEFAULT_SEED = 2026
DEFAULT_PASSWORD = "hemei-demo-2026"  # noqa: S105 - the published demo password
DEMO_ACTOR = system("demo")

PROVINCE = ("14", "山西省")
CITY = ("1401", "太原市")
COUNTY = ("140110", "晋源区")
AREA_CODE = COUNTY[0]  # ID numbers of people registered in the county

XISHAO_CODE = "140110101201"
XISHAO_NAME = "西邵村"
XISHAO_HOUSEHOLDS = 448  # seed 003: all 448 households of 西邵村 are star-rated
XISHAO_GRIDS = 5  # "1+5+N": five grids, each led by a 两委 member
XISHAO_PARTY_MEMBERS = 63
MAX_GRID_HOUSEHOLDS = 300  # a rural grid is a natural village or about 300 households
VILLAGE_MIN, VILLAGE_MAX = 150, 600

# The demo's "today": ages, status dates and link dates are computed from fixed dates so the
# data does not drift with the calendar (created_at/updated_at stay real timestamps).
REF_DATE = dt.date(2026, 1, 1)
POSTS_SINCE = dt.date(2024, 1, 1)  # the current 两委 term
LINKS_SINCE = dt.date(2025, 3, 1)

# Township code (3 digits after the county) → name → its named villages, in code order from
# 201. 西邵村 must stay first in 姚村镇 so its code is 140110101201.
NAMED_TOWNSHIPS: list[tuple[str, str, list[str]]] = [
    ("101", "姚村镇", ["西邵村", "东邵村", "姚村", "北邵村", "南邵村", "大寺村"]),
    ("001", "晋源街道", ["古城营村", "南城角村", "北街村"]),
    ("102", "金胜镇", ["金胜村", "董茹村", "吴家堡村"]),
    ("103", "晋祠镇", ["赤桥村", "纸房村", "王郭村"]),
]

# fmt: off
# Frequent Chinese surnames with rough weights (per mille), Shanxi names (闫, 郝, 贾, 薛, 温,
# 牛, 申) a little heavier than the national table.
SURNAMES: list[tuple[str, int]] = [
    ("王", 71), ("李", 70), ("张", 67), ("刘", 54), ("陈", 45), ("杨", 31), ("赵", 23),
    ("黄", 22), ("周", 21), ("吴", 20), ("徐", 17), ("孙", 15), ("胡", 13), ("朱", 13),
    ("高", 12), ("林", 12), ("何", 12), ("郭", 14), ("马", 11), ("罗", 9), ("梁", 9),
    ("宋", 8), ("郑", 8), ("谢", 7), ("韩", 8), ("唐", 7), ("冯", 6), ("于", 6), ("董", 6),
    ("程", 5), ("曹", 5), ("袁", 5), ("邓", 5), ("许", 5), ("傅", 4), ("沈", 4), ("曾", 4),
    ("彭", 4), ("吕", 4), ("苏", 4), ("卢", 4), ("蒋", 4), ("蔡", 4), ("贾", 6), ("丁", 3),
    ("魏", 4), ("薛", 5), ("叶", 3), ("闫", 7), ("阎", 2), ("余", 3), ("潘", 3), ("杜", 3),
    ("戴", 2), ("夏", 2), ("钟", 2), ("汪", 2), ("田", 3), ("任", 3), ("姜", 2), ("范", 3),
    ("方", 2), ("石", 3), ("姚", 3), ("谭", 2), ("廖", 1), ("邹", 1), ("熊", 1), ("金", 2),
    ("陆", 2), ("郝", 5), ("孔", 2), ("白", 3), ("崔", 3), ("康", 2), ("毛", 2), ("邱", 1),
    ("秦", 2), ("江", 1), ("史", 2), ("顾", 1), ("侯", 2), ("邵", 2), ("孟", 2), ("龙", 1),
    ("段", 2), ("雷", 1), ("钱", 1), ("汤", 1), ("尹", 1), ("常", 2), ("武", 3), ("乔", 2),
    ("贺", 2), ("温", 3), ("牛", 3), ("申", 2), ("樊", 2), ("霍", 2), ("苗", 1),
]

# Given names by sex and generation: 建国 and 秀英 for grandparents, 子豪 and 欣怡 for children.
GIVEN_NAMES: dict[tuple[str, str], list[str]] = {
    ("M", "old"): ["建国", "国庆", "建华", "振华", "卫东", "卫国", "福贵", "满仓", "保平", "二虎",
                   "跃进", "解放", "太平", "长生", "德胜", "有才", "金山", "玉山", "富贵", "成",
                   "明", "忠", "义", "和", "兴", "旺", "财", "喜"],
    ("M", "mid"): ["建军", "建平", "志强", "志明", "国强", "永强", "晋生", "晋军", "海", "涛",
                   "磊", "伟", "军", "勇", "强", "斌", "鹏", "刚", "平", "辉", "峰", "超", "波",
                   "亮", "东", "林", "文", "武", "红兵", "小军", "爱民", "利民"],
    ("M", "young"): ["浩然", "子豪", "宇轩", "俊杰", "浩", "宇", "杰", "晨", "鑫", "帅", "凯",
                     "旭", "博文", "子轩", "一鸣", "梓豪", "天佑", "睿", "皓轩", "明哲", "嘉豪",
                     "宇航", "文博", "思远"],
    ("F", "old"): ["秀英", "桂英", "秀兰", "玉兰", "桂兰", "玉梅", "凤英", "翠花", "淑芬", "改英",
                   "润梅", "巧云", "月英", "金花", "银花", "秀珍", "桂珍", "兰英", "玉珍", "素梅",
                   "二女", "爱莲"],
    ("F", "mid"): ["丽", "芳", "敏", "静", "娟", "燕", "红", "霞", "艳", "萍", "玲", "春梅",
                   "冬梅", "丽娟", "海燕", "晋芳", "晓燕", "丽萍", "彩霞", "建英", "红梅", "小红",
                   "美玲", "秀梅"],
    ("F", "young"): ["欣怡", "子涵", "梓涵", "雨桐", "诗涵", "佳怡", "思雨", "婷", "雪", "洁",
                     "琳", "慧", "可欣", "梦瑶", "雨萱", "一诺", "若曦", "语嫣", "佳琪", "晓萱",
                     "静怡", "紫琪"],
}

# Parts of synthetic place names for the generated townships and villages.
TOWN_A = list("东西南北上下大小前后中新古高河山泉川原岭石清")
TOWN_B = list("庄堡营峪坪店寨头窑关屯桥")
VILLAGE_A = list("东西南北上下前后中大小高王李张刘赵郭杨韩马白石河沟柳杏枣桃梨")
VILLAGE_B = [*"庄堡营沟峪坪店寨头窑湾坡村里屯", "家庄", "家堡", "家沟", "家峪"]

PHONE_PREFIXES = ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
                  "150", "151", "152", "155", "156", "157", "158", "159", "166", "176",
                  "177", "178", "180", "181", "182", "183", "185", "186", "187", "188",
                  "189", "198", "199"]
# fmt: on

CN_DIGITS = "零一二三四五六七八九"
VULNERABLE_TAGS = frozenset({"脱贫户", "监测户", "低保户", "特困户", "独居老人"})
