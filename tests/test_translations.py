"""Chinese is the default language: every UI string has a Chinese translation."""

import re
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def entries():
    text = PO.read_text(encoding="utf-8")
    for block in text.split("\n\n")[1:]:
        msgid = "".join(re.findall(r'"(.*)"', (re.search(r"^msgid ((?:\".*\"\n?)+)", block, re.M) or [""])[0]))
        yield block, msgid


def test_every_message_is_translated_and_none_is_fuzzy():
    missing, fuzzy = [], []
    for block, msgid in entries():
        if not msgid:
            continue
        if "fuzzy" in block:
            fuzzy.append(msgid)
        strs = re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', block, re.M)
        if not strs or any(not "".join(re.findall(r'"(.*)"', s)) for s in strs):
            missing.append(msgid)
    assert not fuzzy, f"fuzzy (ignored by msgfmt): {fuzzy[:5]}"
    assert not missing, f"untranslated: {missing[:5]}"


def test_placeholders_survive_translation():
    for block, msgid in entries():
        if not msgid:
            continue
        found = re.search(r"^msgstr(?:\[0\])? ((?:\".*\"\n?)+)", block, re.M)
        msgstr = "".join(re.findall(r'"(.*)"', found[0] if found else ""))
        assert sorted(re.findall(r"%\(\w+\)[sd]|%\(\w+\)\.1f", msgid)) == sorted(
            re.findall(r"%\(\w+\)[sd]|%\(\w+\)\.1f", msgstr)
        ), msgid
