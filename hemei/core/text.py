"""Chinese text helpers: pinyin initials for search and sorting."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def pinyin_initials(text: str) -> str:
    """王小明 → wxm. Non-Chinese characters are kept (lower-cased) so mixed names still match."""
    if not text:
        return ""
    return "".join(p[0] for p in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default") if p).lower()


def pinyin_full(text: str) -> str:
    return "".join(lazy_pinyin(text or "")).lower()
