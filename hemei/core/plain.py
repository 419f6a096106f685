"""Audit rows and histories as sentences people read (issue 15: "Python data in the audit
log"): who did what to which record, each change as "field 由 old 改为 new", values by their
labels (choices, 是/否, local times), model and field names by their verbose names."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

# Keys that are not model fields but appear in audit details.
EXTRA_NAMES: dict[str, Any] = {
    "field": lambda: _("field"),
    "case": lambda: _("case"),
    "grid": lambda: _("grid"),
    "rows": lambda: _("rows"),
    "count": lambda: _("count"),
    "reason": lambda: _("reason"),
}
ACTION_VERBS: dict[str, Any] = {
    "create": lambda: _("created"),
    "update": lambda: _("changed"),
    "delete": lambda: _("deleted"),
    "reveal": lambda: _("looked up the full personal data of"),
    "export": lambda: _("exported"),
    "import": lambda: _("imported"),
    "login": lambda: _("signed in"),
    "login_failed": lambda: _("failed to sign in"),
    "logout": lambda: _("signed out"),
    "lockout": lambda: _("was locked out"),
    "token": lambda: _("was issued an API token"),
}
NO_OBJECT = {"login", "login_failed", "logout", "lockout", "token"}


def model_of(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def model_name(object_type: str) -> str:
    model = model_of(object_type)
    return str(model._meta.verbose_name) if model is not None else object_type


def _field(model: type[models.Model] | None, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def field_name(model: type[models.Model] | None, name: str) -> str:
    field = _field(model, name)
    if field is not None and getattr(field, "verbose_name", None):
        return str(field.verbose_name)
    extra = EXTRA_NAMES.get(name)
    return str(extra()) if extra else name


def value_words(model: type[models.Model] | None, name: str, value: Any) -> str:
    """One value as a person reads it."""
    if value is None or value == "":
        return _("(empty)")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    field = _field(model, name)
    if field is not None and getattr(field, "choices", None):
        labels = {str(k): str(v) for k, v in field.flatchoices}
        if str(value) in labels:
            return labels[str(value)]
    if name == "field" and isinstance(value, str):
        return field_name(model, value)
    if isinstance(value, list):
        return "、".join(value_words(model, name, v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{field_name(model, k)}：{value_words(model, k, v)}" for k, v in value.items())
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and ("T" in value or " " in value):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return f"{moment:%Y-%m-%d %H:%M}"
    return str(value)


def change_sentences(object_type: str, changes: dict[str, Any] | None) -> list[str]:
    """Each change as a clause: "状态 由 已办结 改为 已关闭", "评价 设为 满意", "电话 已清空"."""
    model = model_of(object_type)
    out = []
    for name, change in (changes or {}).items():
        label = field_name(model, name)
        if isinstance(change, list) and len(change) == 2:
            old, new = change
            if old in (None, "") and new not in (None, ""):
                out.append(_("%(field)s set to %(new)s") % {"field": label, "new": value_words(model, name, new)})
            elif new in (None, "") and old not in (None, ""):
                out.append(_("%(field)s cleared (was %(old)s)") % {"field": label,
                                                                   "old": value_words(model, name, old)})
            else:
                out.append(_("%(field)s from %(old)s to %(new)s") % {
                    "field": label, "old": value_words(model, name, old), "new": value_words(model, name, new)})
        else:
            out.append(f"{label}：{value_words(model, name, change)}")
    return out


def audit_sentence(entry: Any) -> str:
    """"secretary 修改了 居民「王建国」：电话 由 138****1111 改为 139****2222。" (time shown apart)."""
    who = entry.actor_name or _("the system")
    verb = ACTION_VERBS.get(entry.action)
    verb_text = str(verb()) if verb else entry.get_action_display()
    if entry.action in NO_OBJECT or not entry.object_type:
        head = f"{who} {verb_text}"
    else:
        head = _("%(who)s %(verb)s %(model)s “%(name)s”") % {
            "who": who, "verb": verb_text, "model": model_name(entry.object_type), "name": entry.object_repr}
    details = change_sentences(entry.object_type, entry.changes if isinstance(entry.changes, dict) else None)
    text = head + ("：" + "；".join(details) if details else "")
    if entry.note:
        text += f"（{entry.note}）"
    return text + "。"
