"""Every write to a disclosure (ARCHITECTURE rule 1).

The workflow of a version, in `ALLOWED`:
    draft → submitted → approved → published
                      ↘ returned → submitted …
Each step is a conditional update on (pk, status as read): two people acting at once never both
act (rule 6). Each writes a `DisclosureEvent` and an audit row. A published version is never
changed again; `correction_start` opens a new version (with a reason) on the same disclosure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core import chain
from hemei.core.audit import audit_record
from hemei.core.calendar import add_working_days
from hemei.core.parsing import clean_text
from hemei.core.scope import require_actor, user_of
from hemei.disclosure import access
from hemei.disclosure.attachments import MAX_ATTACHMENTS, as_django_file, clean_attachment
from hemei.disclosure.integrity import CHAIN, version_link
from hemei.disclosure.models import (
    Disclosure,
    DisclosureAttachment,
    DisclosureEvent,
    DisclosureVersion,
    Kind,
    ScheduleDue,
    ScheduleSettings,
)
from hemei.disclosure.personal import find_personal_data
from hemei.regions.models import Level, Region

S = DisclosureVersion.Status
ALLOWED: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED}),
    S.SUBMITTED: frozenset({S.APPROVED, S.RETURNED}),
    S.RETURNED: frozenset({S.SUBMITTED}),
    S.APPROVED: frozenset({S.PUBLISHED}),
    S.PUBLISHED: frozenset(),
}
TITLE_LIMIT = 200
BODY_LIMIT = 50_000
DEFAULT_MAJOR_DAYS = 5


@dataclass
class SubmitResult:
    submitted: bool
    warnings: list[str] = field(default_factory=list)



_text = partial(clean_text, required=True)


def _county(village: Region) -> Region:
    county = village.county_ancestor()
    if county is None:
        raise ValidationError(_("Region %(r)s is not inside a county.") % {"r": village})
    return county


def _event(version: DisclosureVersion, kind: str, actor: Any, at: dt.datetime, note: str = "") -> None:
    DisclosureEvent.objects.create(version=version, kind=kind, actor=user_of(actor), at=at, note=note[:1000])


def _move(version: DisclosureVersion, to: str, update: dict[str, Any]) -> None:
    """The one state change: allowed by the table, and only if nobody moved it meanwhile."""
    if version.status == S.PUBLISHED:
        raise ValidationError(_("A published version never changes; start a correction instead."), code="published")
    if to not in ALLOWED[version.status]:
        raise ValidationError(
            _("A %(status)s version cannot become %(to)s.")
            % {"status": version.get_status_display(), "to": S(to).label},
            code="state",
        )
    changed = DisclosureVersion.objects.filter(pk=version.pk, status=version.status).update(status=to, **update)
    if changed != 1:
        raise ValidationError(_("Someone else changed this version meanwhile; reload the page."), code="conflict")
    for key, value in update.items():
        setattr(version, key, value)
    version.status = to


def _check_period(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise ValidationError(_("The period ends before it starts."))


@transaction.atomic
def disclosure_create(
    *,
    actor: Any,
    village: Region,
    kind: str,
    title: str,
    body: str,
    period_start: dt.date,
    period_end: dt.date,
    major: bool = False,
    data: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> DisclosureVersion:
    """A new disclosure with its first version, a draft. A major item (重大事项) is due "at
    once": a `ScheduleDue` of `major_working_days` (default 5) working days starts now."""
    require_actor(actor)
    now = now or timezone.now()
    if village.level != Level.VILLAGE:
        raise ValidationError(_("A disclosure belongs to a village."))
    access.require_role(actor, village, access.AUTHOR_ROLES)
    if kind not in Kind.values:
        raise ValidationError(_("Unknown kind of disclosure."))
    title = _text(title, _("Title"), TITLE_LIMIT)
    body = _text(body, _("Text"), BODY_LIMIT)
    _check_period(period_start, period_end)
    county = _county(village)
    disclosure = Disclosure.objects.create(
        county=county,
        village=village,
        kind=kind,
        title=title,
        period_start=period_start,
        period_end=period_end,
        major=major,
        created_by=user_of(actor),
        created_at=now,
    )
    version = DisclosureVersion.objects.create(
        disclosure=disclosure,
        village=village,
        number=1,
        title=title,
        body=body,
        data=data or {},
        author=user_of(actor),
        created_at=now,
    )
    _event(version, DisclosureEvent.Kind.CREATED, actor, now)
    if major:
        days = ScheduleSettings.objects.filter(village=village).values_list("major_working_days", flat=True).first()
        ScheduleDue.objects.create(
            county=county,
            village=village,
            kind=kind,
            major=True,
            disclosure=disclosure,
            period_start=period_start,
            period_end=period_end,
            due_at=add_working_days(now, days or DEFAULT_MAJOR_DAYS, county_code=county.code),
        )
    audit_record(
        actor=actor,
        action="create",
        obj=disclosure,
        county_code=county.code,
        changes={"kind": kind, "title": title, "period": [period_start, period_end], "major": major},
    )
    return version


def _lock(version: DisclosureVersion) -> DisclosureVersion:
    return DisclosureVersion.objects.select_for_update().select_related("disclosure", "village").get(pk=version.pk)


@transaction.atomic
def version_edit(
    *,
    actor: Any,
    version: DisclosureVersion,
    title: str,
    body: str,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
) -> DisclosureVersion:
    """Change the text of a draft or returned version. Published (or submitted) text is refused."""
    require_actor(actor)
    current = _lock(version)
    access.require_role(actor, current.village, access.AUTHOR_ROLES)
    if current.status == S.PUBLISHED:
        raise ValidationError(_("A published version never changes; start a correction instead."), code="published")
    if not current.editable:
        raise ValidationError(_("Only a draft or a returned version can be edited."), code="state")
    title = _text(title, _("Title"), TITLE_LIMIT)
    body = _text(body, _("Text"), BODY_LIMIT)
    old = {"title": current.title, "body": current.body}
    DisclosureVersion.objects.filter(pk=current.pk, status=current.status).update(title=title, body=body)
    d = current.disclosure
    if current.number == 1 and period_start and period_end:
        # The period belongs to the disclosure and is fixed once a version is published.
        _check_period(period_start, period_end)
        Disclosure.objects.filter(pk=d.pk).update(period_start=period_start, period_end=period_end, title=title)
    elif current.number == 1:
        Disclosure.objects.filter(pk=d.pk).update(title=title)
    _event(current, DisclosureEvent.Kind.EDITED, actor, timezone.now())
    audit_record(
        actor=actor,
        action="update",
        obj=current,
        county_code=current.village.code[:6],
        changes={k: [old[k][:200], v[:200]] for k, v in (("title", title), ("body", body)) if old[k] != v},
    )
    current.title, current.body = title, body
    return current


@transaction.atomic
def attachment_add(*, actor: Any, version: DisclosureVersion, upload: Any) -> DisclosureAttachment:
    require_actor(actor)
    current = _lock(version)
    access.require_role(actor, current.village, access.AUTHOR_ROLES)
    if current.status == S.PUBLISHED:
        raise ValidationError(_("A published version never changes; start a correction instead."), code="published")
    if not current.editable:
        raise ValidationError(_("Only a draft or a returned version can be edited."), code="state")
    if current.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationError(_("At most %(n)d attachments.") % {"n": MAX_ATTACHMENTS}, code="too_many")
    clean = clean_attachment(upload)
    attachment = DisclosureAttachment.objects.create(
        version=current,
        file=as_django_file(clean),
        name=clean.name,
        content_type=clean.content_type,
        size=len(clean.content),
        sha256=clean.sha256,
    )
    audit_record(
        actor=actor,
        action="create",
        obj=attachment,
        county_code=current.village.code[:6],
        changes={"version": current.pk, "name": clean.name, "sha256": clean.sha256},
    )
    return attachment


@transaction.atomic
def version_submit(
    *, actor: Any, version: DisclosureVersion, confirm: bool = False, now: dt.datetime | None = None
) -> SubmitResult:
    """Send a draft (or a returned version) to the supervision committee.

    Personal data in the title or text (valid ID numbers, mobile numbers, bank cards) is
    reported first: without `confirm` nothing changes and the warnings come back; with
    `confirm` the version is submitted and the confirmed warnings are kept on it."""
    require_actor(actor)
    now = now or timezone.now()
    current = _lock(version)
    access.require_role(actor, current.village, access.AUTHOR_ROLES)
    findings = find_personal_data(f"{current.title}\n{current.body}")
    labels = [f.label() for f in findings]
    if findings and not confirm:
        return SubmitResult(submitted=False, warnings=labels)
    _move(current, S.SUBMITTED, {"submitted_at": now, "warnings": [f.as_dict() for f in findings]})
    _event(
        current,
        DisclosureEvent.Kind.SUBMITTED,
        actor,
        now,
        note=_("confirmed despite: %(w)s") % {"w": "; ".join(labels)} if labels else "",
    )
    audit_record(
        actor=actor,
        action="update",
        obj=current,
        county_code=current.village.code[:6],
        changes={"status": [version.status, S.SUBMITTED], "warnings": [f.as_dict() for f in findings]},
    )
    return SubmitResult(submitted=True, warnings=labels)


@transaction.atomic
def version_review(
    *, actor: Any, version: DisclosureVersion, approve: bool, comment: str = "", now: dt.datetime | None = None
) -> DisclosureVersion:
    """The supervision committee approves, or returns with comments (comments required)."""
    require_actor(actor)
    now = now or timezone.now()
    current = _lock(version)
    if not access.scope_for(actor).covers_path(current.village.path):
        raise Http404
    if not access.can_review(actor, current, current.village):
        raise PermissionDenied(_("Only the supervision committee reviews, and never its own text."))
    comment = (comment or "").strip()[:1000]
    if not approve and not comment:
        raise ValidationError(_("Say what must change when returning a version."))
    to = S.APPROVED if approve else S.RETURNED
    old = current.status
    _move(current, to, {"reviewed_by": user_of(actor), "reviewed_at": now, "review_comment": comment})
    _event(current, DisclosureEvent.Kind.APPROVED if approve else DisclosureEvent.Kind.RETURNED, actor, now, comment)
    audit_record(
        actor=actor,
        action="update",
        obj=current,
        county_code=current.village.code[:6],
        changes={"status": [old, to], "comment": comment},
    )
    return current


def _fulfil_dues(disclosure: Disclosure, now: dt.datetime) -> int:
    periodic = ScheduleDue.objects.filter(
        village_id=disclosure.village_id,
        kind=disclosure.kind,
        major=False,
        fulfilled_at__isnull=True,
        period_start__gte=disclosure.period_start,
        period_end__lte=disclosure.period_end,
    )
    major = ScheduleDue.objects.filter(disclosure=disclosure, major=True, fulfilled_at__isnull=True)
    return periodic.update(fulfilled_at=now) + major.update(fulfilled_at=now)


@transaction.atomic
def version_publish(*, actor: Any, version: DisclosureVersion, now: dt.datetime | None = None) -> DisclosureVersion:
    """Publish an approved version onto the village chain.

    1. Only an approved version (reviewed by the supervision committee) may be published.
    2. Lock the village's chain head; the version takes the next sequence and links to the
       head's hash; its hash is computed over its content (`hemei.disclosure.integrity`).
    3. The version becomes published (conditional update), the head moves, and the schedule
       periods this disclosure covers count as published."""
    require_actor(actor)
    now = now or timezone.now()
    current = _lock(version)
    access.require_role(actor, current.village, access.PUBLISH_ROLES)
    if current.status == S.PUBLISHED:
        raise ValidationError(_("This version is already published."), code="published")
    if current.status != S.APPROVED or current.reviewed_by_id is None:
        raise ValidationError(
            _("Only a version approved by the supervision committee can be published."), code="not_reviewed"
        )
    head = chain.lock_head(CHAIN, current.village_id)
    current.published_at = now
    current.published_by = user_of(actor)
    link = version_link(current, head)
    current.sequence, current.prev_hash, digest = link.sequence, link.prev_hash, link.hash
    _move(
        current,
        S.PUBLISHED,
        {
            "sequence": current.sequence,
            "prev_hash": current.prev_hash,
            "hash": digest,
            "published_at": now,
            "published_by": user_of(actor),
        },
    )
    chain.save_head(head)
    Disclosure.objects.filter(pk=current.disclosure_id).update(title=current.title)
    _fulfil_dues(current.disclosure, now)
    _event(current, DisclosureEvent.Kind.PUBLISHED, actor, now)
    audit_record(
        actor=actor,
        action="update",
        obj=current,
        county_code=current.village.code[:6],
        changes={"status": [S.APPROVED, S.PUBLISHED], "sequence": current.sequence, "hash": digest},
    )
    return current


@transaction.atomic
def correction_start(
    *,
    actor: Any,
    disclosure: Disclosure,
    reason: str,
    title: str = "",
    body: str = "",
    data: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> DisclosureVersion:
    """A new version of a published disclosure, with the reason for the correction. It goes
    through review like the first; the published versions stay as they are, all visible."""
    require_actor(actor)
    now = now or timezone.now()
    access.require_role(actor, disclosure.village, access.AUTHOR_ROLES)
    reason = _text(reason, _("Reason for the correction"), 500)
    versions = DisclosureVersion.objects.select_for_update().filter(disclosure=disclosure)
    latest = versions.order_by("-number").first()
    if latest is None or latest.status != S.PUBLISHED:
        raise ValidationError(
            _("Correct a disclosure only after it is published; edit the open version instead."), code="state"
        )
    number = (versions.aggregate(m=Max("number"))["m"] or 0) + 1
    version = DisclosureVersion.objects.create(
        disclosure=disclosure,
        village=disclosure.village,
        number=number,
        title=_text(title or latest.title, _("Title"), TITLE_LIMIT),
        body=_text(body or latest.body, _("Text"), BODY_LIMIT),
        data=latest.data if data is None else data,
        reason=reason,
        author=user_of(actor),
        created_at=now,
    )
    _event(version, DisclosureEvent.Kind.CORRECTION, actor, now, reason)
    audit_record(
        actor=actor,
        action="create",
        obj=version,
        county_code=disclosure.village.code[:6],
        changes={"disclosure": disclosure.pk, "version": number, "reason": reason},
    )
    return version
