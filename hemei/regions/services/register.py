"""Writes to regions, households and residents: creation, changes, moves, reveals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record, diff
from hemei.core.idnumbers import IdNumberError, parse_id_number
from hemei.core.models import AuditEntry
from hemei.core.parsing import county_of
from hemei.core.scope import is_system, require_actor, user_of
from hemei.core.text import pinyin_initials
from hemei.core.workflow import transition
from hemei.regions.access import scope_for
from hemei.regions.models import (
    CODE_LENGTH,
    LEVEL_ORDER,
    Household,
    Level,
    MoveRecord,
    Region,
    Resident,
    Tag,
)

PHONE_DIGITS = 11


_county_of = county_of


def _village_of(grid: Region) -> Region:
    """The village of a grid that can take households: a current grid directly below a village."""
    if grid.valid_to is not None and grid.valid_to < dt.date.today():
        raise ValidationError(_("Grid %(g)s was closed on %(d)s.") % {"g": grid.name, "d": grid.valid_to},
                              code="closed")
    parent = Region.objects.get_parent(grid)
    if grid.level != Level.GRID or parent is None or parent.level != Level.VILLAGE:
        raise ValidationError(_("Households belong to a grid of a village."))
    return parent


def normalise_phone(raw: str | None) -> str:
    phone = "".join(ch for ch in str(raw or "") if ch.isdigit())
    if not phone:
        return ""
    if len(phone) == 13 and phone.startswith("86"):
        phone = phone[2:]
    if len(phone) != PHONE_DIGITS or not phone.startswith("1"):
        raise ValidationError(_("Phone number must be 11 digits starting with 1."))
    return phone


@transaction.atomic
def region_create(
    *,
    name: str,
    level: str,
    code: str,
    parent: Region | None = None,
    valid_from: dt.date | None = None,
    actor: Any,
) -> Region:
    """Add a region below its parent; the code must extend the parent's code."""
    require_actor(actor)
    if level not in Level.values:
        raise ValidationError(_("Unknown region level %(l)s.") % {"l": level})
    expected = CODE_LENGTH[Level(level)]
    if len(code) != expected or not code.isdigit():
        raise ValidationError(
            _("A %(level)s code has %(n)d digits.") % {"level": Level(level).label, "n": expected}
        )
    if parent is not None:
        if LEVEL_ORDER.index(Level(level)) <= LEVEL_ORDER.index(Level(parent.level)):
            raise ValidationError(_("A region must be below its parent's level."))
        if not code.startswith(parent.code):
            raise ValidationError(_("Code %(c)s does not extend parent code %(p)s.") % {"c": code, "p": parent.code})
    if Region.objects.filter(code=code).exists():
        raise ValidationError(_("Region code %(c)s already exists.") % {"c": code})
    fields = {"name": name, "level": level, "code": code, "valid_from": valid_from}
    region = (
        Region.objects.add_child(parent, fields) if parent is not None else Region.objects.add_root(fields)
    )
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=region, county_code=code[:6],
                 changes={k: [None, v] for k, v in fields.items()})
    return region


@transaction.atomic
def region_close(
    *, region: Region, on: dt.date, merged_into: Region | None = None, actor: Any
) -> Region:
    """End a region (a village merged into another, a grid re-drawn) without deleting it.

    1. Its households must have moved first (`household_move`), so no one is left in a
       region that no longer exists.
    2. The row stays with `valid_to` set: history (moves, audit, later cases) still points
       at the place as it was.
    """
    require_actor(actor)
    if region.valid_to is not None:
        raise ValidationError(_("Region %(r)s is already closed.") % {"r": region.name}, code="closed")
    if merged_into is not None and merged_into.level != region.level:
        raise ValidationError(_("A region merges into a region of the same level."), code="level")
    if Household.objects.filter(region__path__startswith=region.path).exists():
        raise ValidationError(
            _("Move the households of %(r)s before closing it.") % {"r": region.name}, code="not_empty"
        )
    Region.objects.filter(path__startswith=region.path, valid_to__isnull=True).update(valid_to=on)
    region.refresh_from_db()
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=region, county_code=region.code[:6],
                 changes={"valid_to": [None, on], "merged_into": [None, merged_into.code if merged_into else None]})
    return region


def _check_can_write(actor: Any, region: Region) -> None:
    if is_system(actor):  # system jobs (demo, CLI as operator) are trusted callers
        return
    if not scope_for(actor).covers_path(region.path, write=True):
        raise PermissionDenied(_("This region is outside your posts."))


@transaction.atomic
def household_create(
    *,
    grid: Region,
    number: str,
    address: str = "",
    tags: list[Tag] | None = None,
    lives_in_village: bool = True,
    actor: Any,
) -> Household:
    require_actor(actor)
    _check_can_write(actor, grid)
    village = _village_of(grid)
    number = str(number).strip()
    if not number:
        raise ValidationError(_("Household number is required."))
    if Household.objects.filter(village=village, number=number).exists():
        raise ValidationError(_("Household number %(n)s already exists in %(v)s.") % {"n": number, "v": village.name})
    try:
        with transaction.atomic():
            household = Household.objects.create(
                county=_county_of(grid), region=grid, village=village, number=number,
                address=address, lives_in_village=lives_in_village,
            )
    except IntegrityError:  # a parallel request took the number between check and insert
        raise ValidationError(
            _("Household number %(n)s already exists in %(v)s.") % {"n": number, "v": village.name}
        ) from None
    if tags:
        household.tags.set(tags)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=household, county_code=grid.code[:6],
                 changes={"number": [None, number], "grid": [None, grid.code], "address": [None, address]})
    return household


def _check_tags(tags: Iterable[Tag], *, applies_to: str, current: Iterable[Tag] = ()) -> list[Tag]:
    """Tags for a household or a resident: of the right kind, and in use unless already set."""
    kept = {t.pk for t in current}
    result: list[Tag] = []
    for tag in tags:
        if tag.applies_to not in (applies_to, Tag.AppliesTo.BOTH):
            raise ValidationError(_("Tag %(t)s cannot be used here.") % {"t": tag.name}, code="tag_kind")
        if not tag.active and tag.pk not in kept:
            raise ValidationError(_("Tag %(t)s is no longer in use.") % {"t": tag.name}, code="tag_inactive")
        result.append(tag)
    return result


def _tag_names(tags: Iterable[Tag]) -> list[str]:
    return sorted(t.name for t in tags)


@transaction.atomic
def household_update(
    *,
    household: Household,
    actor: Any,
    request: HttpRequest | None = None,
    address: str | None = None,
    tags: Iterable[Tag] | None = None,
    lives_in_village: bool | None = None,
) -> Household:
    """Change a household's address, tags and lives-in-village flag (None keeps a value).

    1. Lock the row, so two clerks saving at once each see the other's result in the diff.
    2. Tags must apply to households; a tag taken out of use may stay but not be added.
    3. One audit row with old → new per changed field (tags as sorted names); none if
       nothing changed.
    """
    require_actor(actor)
    _check_can_write(actor, household.region)
    household = Household.objects.select_for_update().select_related("region").get(pk=household.pk)
    old_tags = list(household.tags.all())
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    fields: list[str] = []
    if address is not None:
        before["address"], after["address"] = household.address, str(address).strip()
        household.address = after["address"]
        fields.append("address")
    if lives_in_village is not None:
        before["lives_in_village"], after["lives_in_village"] = household.lives_in_village, bool(lives_in_village)
        household.lives_in_village = bool(lives_in_village)
        fields.append("lives_in_village")
    new_tags: list[Tag] | None = None
    if tags is not None:
        new_tags = _check_tags(tags, applies_to=Tag.AppliesTo.HOUSEHOLD, current=old_tags)
        before["tags"], after["tags"] = _tag_names(old_tags), _tag_names(new_tags)
    changed = diff(before, after)
    if not changed:
        return household
    if fields:
        household.save(update_fields=[*fields, "updated_at"])
    if new_tags is not None and "tags" in changed:
        household.tags.set(new_tags)
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=household, changes=changed, request=request)
    return household


def check_id_number(
    raw: str, *, sex: str | None = None, birth_date: dt.date | None = None
) -> tuple[str, str, dt.date, list[str]]:
    """Validate an ID number and any sex / birth date given beside it."""
    try:
        parsed = parse_id_number(raw)
    except IdNumberError as exc:
        raise ValidationError(str(exc), code="id_number") from None
    if sex and sex != parsed.sex:
        raise ValidationError(_("Sex does not match the ID number."), code="sex_mismatch")
    if birth_date and birth_date != parsed.birth_date:
        raise ValidationError(_("Birth date does not match the ID number."), code="birth_mismatch")
    return parsed.number, parsed.sex, parsed.birth_date, parsed.warnings


@transaction.atomic
def resident_create(
    *,
    household: Household,
    name: str,
    id_number: str,
    phone: str = "",
    relation: str = Resident.Relation.OTHER,
    is_party_member: bool = False,
    sex: str | None = None,
    birth_date: dt.date | None = None,
    tags: list[Tag] | None = None,
    actor: Any,
) -> Resident:
    """Register a resident in a household.

    1. Check the ID number (errors raise, unknown area code is only a warning) and that any
       given sex and birth date agree with it.
    2. Refuse an ID number already registered anywhere (one person, one row).
    3. A resident related as "head" becomes the household's head.
    """
    require_actor(actor)
    _check_can_write(actor, household.region)
    name = name.strip()
    if not name:
        raise ValidationError(_("Name is required."))
    number, sex, birth, _warnings = check_id_number(id_number, sex=sex, birth_date=birth_date)
    if Resident.objects.filter(id_number=number).exists():
        raise ValidationError(_("ID number is already registered."), code="duplicate_id")
    phone = normalise_phone(phone)
    try:
        with transaction.atomic():
            resident = Resident.objects.create(
                county_id=household.county_id, region_id=household.region_id, household=household,
                name=name, name_initials=pinyin_initials(name), id_number=number, id_tail=number[-4:],
                sex=sex, birth_date=birth, phone=phone, phone_tail=phone[-4:], relation=relation,
                is_party_member=is_party_member,
            )
    except IntegrityError:  # a parallel registration; the database message would hold the full ID
        raise ValidationError(_("ID number is already registered."), code="duplicate_id") from None
    if tags:
        resident.tags.set(tags)
    if relation == Resident.Relation.HEAD:
        _set_head(household, resident)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, obj=resident,
                 county_code=household.county_code,
                 changes={"name": [None, name], "household": [None, household.number]})
    return resident


def _clear_head_if(resident: Resident) -> None:
    """A resident who stops being head (new relation, death, moving out) leaves the household
    without a head until someone else is named; a stale head would mislead every list."""
    Household.objects.filter(pk=resident.household_id, head=resident).update(head=None)


def _set_head(household: Household, resident: Resident) -> None:
    if household.head_id and household.head_id != resident.pk:
        Resident.objects.filter(pk=household.head_id, relation=Resident.Relation.HEAD).update(
            relation=Resident.Relation.OTHER
        )
    household.head = resident
    household.save(update_fields=["head", "updated_at"])


RESIDENT_EDITABLE = {"name", "phone", "relation", "is_party_member", "id_number"}


@transaction.atomic
def resident_update(*, resident: Resident, actor: Any, request: HttpRequest | None = None, **changes: Any) -> Resident:
    require_actor(actor)
    _check_can_write(actor, resident.region)
    unknown = set(changes) - RESIDENT_EDITABLE
    if unknown:
        raise ValidationError(_("Fields cannot be changed here: %(f)s") % {"f": ", ".join(sorted(unknown))})
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    before = {k: getattr(resident, k) for k in changes}
    if "id_number" in changes:
        number, sex, birth, _w = check_id_number(changes["id_number"])
        if Resident.objects.filter(id_number=number).exclude(pk=resident.pk).exists():
            raise ValidationError(_("ID number is already registered."), code="duplicate_id")
        resident.id_number, resident.id_tail, resident.sex, resident.birth_date = number, number[-4:], sex, birth
        changes["id_number"] = number
    if "phone" in changes:
        resident.phone = normalise_phone(changes["phone"])
        resident.phone_tail = resident.phone[-4:]
        changes["phone"] = resident.phone
    if "name" in changes:
        resident.name = str(changes["name"]).strip()
        resident.name_initials = pinyin_initials(resident.name)
    for key in ("relation", "is_party_member"):
        if key in changes:
            setattr(resident, key, changes[key])
    resident.save()
    if changes.get("relation") == Resident.Relation.HEAD:
        _set_head(resident.household, resident)
    elif "relation" in changes:
        _clear_head_if(resident)
    changed = diff(before, {k: getattr(resident, k) for k in changes})
    # Personal data never lands in the audit log in clear text.
    for key in ("id_number", "phone"):
        if key in changed:
            changed[key] = ["***", "***"]
    if changed:
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=resident, changes=changed, request=request)
    return resident


@transaction.atomic
def resident_set_tags(
    *, resident: Resident, tags: Iterable[Tag], actor: Any, request: HttpRequest | None = None
) -> Resident:
    """Replace a resident's tags; the audit row lists the tag names before and after."""
    require_actor(actor)
    _check_can_write(actor, resident.region)
    resident = Resident.objects.select_for_update().select_related("region").get(pk=resident.pk)
    old_tags = list(resident.tags.all())
    new_tags = _check_tags(tags, applies_to=Tag.AppliesTo.RESIDENT, current=old_tags)
    changed = diff({"tags": _tag_names(old_tags)}, {"tags": _tag_names(new_tags)})
    if changed:
        resident.tags.set(new_tags)
        audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=resident, changes=changed, request=request)
    return resident


@transaction.atomic
def resident_set_status(
    *, resident: Resident, status: str, on: dt.date, actor: Any, note: str = ""
) -> Resident:
    require_actor(actor)
    _check_can_write(actor, resident.region)
    if status not in Resident.Status.values:
        raise ValidationError(_("Unknown status."))
    old = resident.status
    transition(resident, status, actor=actor, status_date=on, note=note, audit_note=note,
               data={"on": on.isoformat()}, changes={"status": [old, status], "status_date": [None, on]})
    if status != Resident.Status.LIVING:
        _clear_head_if(resident)
    return resident


@transaction.atomic
def resident_move(
    *, resident: Resident, to_household: Household, on: dt.date, reason: str = "", actor: Any
) -> MoveRecord:
    """Move a resident to another household; the move stays as a history row."""
    require_actor(actor)
    _check_can_write(actor, resident.region)
    _check_can_write(actor, to_household.region)
    if to_household.pk == resident.household_id:
        raise ValidationError(_("The resident already lives in this household."))
    source = resident.household
    record = MoveRecord.objects.create(
        household=to_household, resident=resident, from_household=source,
        from_region_id=resident.region_id, to_region_id=to_household.region_id,
        moved_on=on, reason=reason, recorded_by=user_of(actor),
    )
    if source.head_id == resident.pk:
        source.head = None
        source.save(update_fields=["head", "updated_at"])
    Resident.objects.filter(pk=resident.pk).update(
        household=to_household, region_id=to_household.region_id, county_id=to_household.county_id,
        relation=Resident.Relation.OTHER,
    )
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=resident,
                 changes={"household": [source.number, to_household.number]}, note=reason)
    return record


@transaction.atomic
def household_move(
    *, household: Household, to_grid: Region, on: dt.date, reason: str = "", actor: Any
) -> MoveRecord:
    """Move a whole household to another grid (e.g. grids re-drawn); residents follow."""
    require_actor(actor)
    _check_can_write(actor, household.region)
    _check_can_write(actor, to_grid)
    if to_grid.pk == household.region_id:
        raise ValidationError(_("The household is already in this grid."))
    village = _village_of(to_grid)
    if village.pk != household.village_id and Household.objects.filter(
        village=village, number=household.number
    ).exists():
        raise ValidationError(
            _("Household number %(n)s already exists in %(v)s.") % {"n": household.number, "v": village.name}
        )
    record = MoveRecord.objects.create(
        household=household, from_region_id=household.region_id, to_region=to_grid,
        moved_on=on, reason=reason, recorded_by=user_of(actor),
    )
    old_grid = household.region.code
    county = _county_of(to_grid)
    Household.objects.filter(pk=household.pk).update(region=to_grid, village=village, county=county)
    Resident.objects.filter(household=household).update(region=to_grid, county=county)
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, obj=household,
                 changes={"grid": [old_grid, to_grid.code]}, note=reason)
    household.refresh_from_db()
    return record


def personal_data_reveal(
    *, user: Any, resident: Resident, field: str, request: HttpRequest | None = None
) -> str:
    """Return a full ID number or phone to a user allowed to see it; every reveal is audited."""
    if field not in {"id_number", "phone"}:
        raise ValidationError(_("Only ID numbers and phones are masked."))
    if not scope_for(user).can_reveal:
        raise PermissionDenied(_("You may not reveal personal data."))
    audit_record(actor=user, action=AuditEntry.Action.REVEAL, obj=resident, request=request,
                 changes={"field": field})
    return str(getattr(resident, field))
