"""Passes 2 and 3 of the import: check the rows against the register, then write them.

`Plan.check` resolves grids, households and residents that already exist with a handful of
queries (never one per row) and checks the rules that span rows. `Plan.write` applies the
plan inside the caller's transaction with bulk statements; the rare moves go through the
regular services so their history rows (MoveRecord, audit) match a move made by hand.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record_many
from hemei.core.models import AuditEntry
from hemei.core.text import pinyin_initials
from hemei.regions import services
from hemei.regions.models import Household, Level, Region, Resident
from hemei.regions.roster.bulk import (
    ID_LOOKUP_CHUNK,
    UPDATE_BATCH,
    WRITE_BATCH,
    FastInsert,
    chunks,
)
from hemei.regions.roster.reader import Row
from hemei.regions.roster.report import MAX_REPORTED_ERRORS, Collector
from hemei.regions.roster.template import COL_GRID, COL_ID, COL_NUMBER, COL_RELATION

R = Resident.Relation


# Columns the import gives for each new resident, in the order of the value tuples.
RESIDENT_INSERT_FIELDS = (
    "county_id", "region_id", "household_id", "name", "name_initials", "id_number", "id_tail",
    "sex", "birth_date", "phone", "phone_tail", "relation", "is_party_member", "created_at",
    "updated_at",
)


@functools.lru_cache(maxsize=65536)
def _initials(name: str) -> str:
    # Names repeat a lot in a village (and pypinyin is the slow part of a row).
    return pinyin_initials(name)


@dataclass(slots=True)
class _Existing:
    """What the database holds for a resident named in the file (one query per chunk)."""

    pk: int
    household_id: int
    village_id: int
    number: str
    path: str
    name: str
    phone: str
    relation: str
    party: bool


@dataclass
class _HouseholdRow:
    pk: int
    region_id: int
    head_id: int | None


HouseholdKey = tuple[int, str]  # (village id, household number)


class Plan:
    """Everything the file would change: checked against the database (`check`, pass 2),
    then applied (`write`, pass 3)."""

    def __init__(self, *, region: Region, rows: list[Row], errors: Collector) -> None:
        self.region = region
        self.rows = rows
        self.errors = errors
        self.grids: dict[str, Region] = {}
        self.village_of: dict[int, int] = {}  # grid id → village id
        self.county_of: dict[int, int] = {}  # grid id → county id
        self.households: dict[HouseholdKey, _HouseholdRow] = {}
        self.key_grid: dict[HouseholdKey, tuple[int, int]] = {}  # key → (grid id, first row)
        self.new_households: dict[HouseholdKey, int] = {}  # key → grid id
        self.household_moves: dict[HouseholdKey, int] = {}  # existing key → new grid id
        self.existing: dict[str, _Existing] = {}
        self.new_rows: list[Row] = []
        self.updates: dict[int, Row] = {}  # resident id → row
        self.changed: dict[int, list[str]] = {}  # resident id → changed field names
        self.moves: dict[int, HouseholdKey] = {}  # resident id → target household
        self.unchanged = 0
        self.heads: dict[HouseholdKey, Row] = {}
        self.tags: dict[HouseholdKey, set[int]] = {}
        self.current_tags: dict[int, set[int]] = {}
        self.has_tags = any(r.tags is not None for r in rows)
        self._household_changes: dict[int, set[int]] | None = None

    # -- checks --

    def check(self) -> None:
        self._resolve_grids()
        self._load_households()
        self._load_residents()
        self._check_rows()
        if self.has_tags:
            self._load_tags()

    def _resolve_grids(self) -> None:
        codes = sorted({r.grid_code for r in self.rows if r.grid_code})
        for chunk in chunks(codes, ID_LOOKUP_CHUNK):
            for grid in Region.objects.filter(code__in=chunk):
                self.grids[grid.code] = grid
        # Villages and counties of the grids: ancestors are path prefixes (one query).
        steplen = Region.steplen
        prefixes = {
            g.path[:i] for g in self.grids.values() for i in range(steplen, len(g.path), steplen)
        }
        ancestors = {a.path: a for a in Region.objects.filter(path__in=prefixes)}
        for grid in self.grids.values():
            parent = ancestors.get(grid.path[:-steplen])
            if parent is not None and parent.level == Level.VILLAGE:
                self.village_of[grid.pk] = parent.pk
            for prefix in range(steplen, len(grid.path), steplen):
                ancestor = ancestors.get(grid.path[:prefix])
                if ancestor is not None and ancestor.level == Level.COUNTY:
                    self.county_of[grid.pk] = ancestor.pk

    def _load_households(self) -> None:
        villages = sorted(set(self.village_of.values()))
        for chunk in chunks(villages, ID_LOOKUP_CHUNK):
            for pk, village_id, number, region_id, head_id in Household.objects.filter(
                village_id__in=chunk
            ).values_list("pk", "village_id", "number", "region_id", "head_id"):
                self.households[(village_id, number)] = _HouseholdRow(pk, region_id, head_id)

    def _load_residents(self) -> None:
        ids = [r.id_number for r in self.rows if r.id_number]
        for chunk in chunks(ids, ID_LOOKUP_CHUNK):
            for values in Resident.objects.filter(id_number__in=chunk).values_list(
                "pk", "id_number", "household_id", "household__village_id", "household__number",
                "region__path", "name", "phone", "relation", "is_party_member",
            ):
                self.existing[values[1]] = _Existing(
                    values[0], values[2], values[3], values[4], values[5], values[6], values[7],
                    values[8], values[9],
                )

    def _check_rows(self) -> None:
        """Each row against the register and the rows before it: its grid, one grid per
        household number, a household moved only inside the import's region, one head per
        household, an ID not registered outside the region; then what it creates or changes."""
        grids_by_pk = {g.pk: g for g in self.grids.values()}
        for row in self.rows:
            grid = self._row_grid(row)
            if grid is None or not row.number:
                continue
            key = (self.village_of[grid.pk], row.number)
            if not self._claim_household(row, grid, key, grids_by_pk) or not self._claim_head(row, key):
                continue
            existing = self.existing.get(row.id_number) if row.id_number else None
            if existing is not None and not existing.path.startswith(self.region.path):
                # An ID that belongs to someone outside this region is another household's.
                self.errors.add(row.row, COL_ID, row.id_number, _(
                    "This ID number is already registered in another household outside the "
                    "region of this import."
                ))
                row.has_error = True
                continue
            if not row.has_error:
                self._plan_row(row, grid, key, existing)

    def _row_grid(self, row: Row) -> Region | None:
        """The row's grid when it is a grid of a village inside the import's region; else None
        (and the error, unless the code is blank: pass 1 reported that)."""
        grid = self.grids.get(row.grid_code) if row.grid_code else None
        problem = ""
        if row.grid_code and grid is None:
            problem = _("Unknown grid code.")
        elif grid is not None and (
            grid.level != Level.GRID or grid.pk not in self.village_of
            or grid.pk not in self.county_of
        ):
            problem = _("%(code)s is not the code of a grid in a village.") % {
                "code": row.grid_code
            }
        elif grid is not None and not grid.path.startswith(self.region.path):
            problem = _("Grid %(code)s is outside %(region)s, the region of this import.") % {
                "code": row.grid_code, "region": self.region.name
            }
        if problem:
            self.errors.add(row.row, COL_GRID, row.grid_code, problem)
            row.has_error = True
            return None
        return grid

    def _claim_household(self, row: Row, grid: Region, key: HouseholdKey,
                         grids_by_pk: dict[int, Region]) -> bool:
        """One household number, one grid; a household that exists elsewhere moves here only
        from inside the import's region. False (and the error) when the row breaks this."""
        first = self.key_grid.get(key)
        if first is None:
            self.key_grid[key] = (grid.pk, row.row)
        elif first[0] != grid.pk:
            self.errors.add(row.row, COL_GRID, row.grid_code, _(
                "Household %(n)s is in grid %(code)s in row %(row)d."
            ) % {"n": row.number, "code": grids_by_pk[first[0]].code, "row": first[1]})
            row.has_error = True
            return False
        household = self.households.get(key)
        if household is not None and household.region_id != grid.pk and first is None:
            old_grid = Region.objects.filter(pk=household.region_id).only("path").first()
            if old_grid is None or not old_grid.path.startswith(self.region.path):
                self.errors.add(row.row, COL_NUMBER, row.number, _(
                    "Household %(n)s already exists in a grid outside the region of this "
                    "import."
                ) % {"n": row.number})
                row.has_error = True
                return False
            self.household_moves[key] = grid.pk
        return True

    def _claim_head(self, row: Row, key: HouseholdKey) -> bool:
        """One head per household: False (and the error) for a second 户主."""
        if row.relation != R.HEAD:
            return True
        head = self.heads.get(key)
        if head is not None:
            self.errors.add(row.row, COL_RELATION, "户主", _(
                "Household %(n)s already has a head (户主) in row %(row)d."
            ) % {"n": row.number, "row": head.row})
            row.has_error = True
            return False
        self.heads[key] = row
        return True

    def _plan_row(self, row: Row, grid: Region, key: HouseholdKey, existing: _Existing | None) -> None:
        """A good row: the household it creates, the resident it creates or changes."""
        if row.tags is not None:
            self.tags.setdefault(key, set()).update(row.tags)
        if self.households.get(key) is None and key not in self.new_households:
            self.new_households[key] = grid.pk
        if existing is None:
            self.new_rows.append(row)
            return
        fields = self._changes(existing, row)
        if (existing.village_id, existing.number) != key:
            self.moves[existing.pk] = key
            fields.append("household")
        if fields:
            self.updates[existing.pk] = row
            self.changed[existing.pk] = fields
        else:
            self.unchanged += 1

    @staticmethod
    def _audit_diff(existing: _Existing, row: Row, phone: str, party: bool) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if existing.name != row.name:
            changes["name"] = [existing.name, row.name]
        if existing.relation != row.relation:
            changes["relation"] = [existing.relation, row.relation]
        if existing.party != party:
            changes["is_party_member"] = [existing.party, party]
        if existing.phone != phone:
            changes["phone"] = ["***", "***"]
        return changes

    @staticmethod
    def _changes(existing: _Existing, row: Row) -> list[str]:
        fields: list[str] = []
        if existing.name != row.name:
            fields.append("name")
        if row.phone is not None and existing.phone != row.phone:
            fields.append("phone")
        if existing.relation != row.relation:
            fields.append("relation")
        if row.party is not None and existing.party != row.party:
            fields.append("is_party_member")
        return fields

    def _load_tags(self) -> None:
        through = Household.tags.through
        pks = sorted({h.pk for k, h in self.households.items() if k in self.tags})
        for chunk in chunks(pks, ID_LOOKUP_CHUNK):
            for household_id, tag_id in through.objects.filter(household_id__in=chunk).values_list(
                "household_id", "tag_id"
            ):
                self.current_tags.setdefault(household_id, set()).add(tag_id)

    def household_changes(self) -> dict[int, set[int]]:
        """Existing households whose types differ from the file: pk → wanted tag ids."""
        if self._household_changes is None:
            self._household_changes = {}
            for key, wanted in self.tags.items():
                household = self.households.get(key)
                if household is not None and self.current_tags.get(household.pk, set()) != wanted:
                    self._household_changes[household.pk] = wanted
        return self._household_changes

    def changed_fields_summary(self) -> dict[str, list[str]]:
        # Audit rows are JSON; keep them bounded for huge changed files.
        items = list(self.changed.items())[:MAX_REPORTED_ERRORS]
        return {str(pk): fields for pk, fields in items}

    # -- writes --

    def write(self, *, actor: Any, tick: Callable[[int], None]) -> None:
        """Pass 3, inside the caller's transaction.

        1. Create the new households (bulk) and move households whose grid changed.
        2. Move residents whose household number changed (service: MoveRecord + audit).
        3. Create the new residents and update the changed ones (bulk).
        4. Set each household's head; a replaced head not named in the file becomes 其他.
        5. Set household types where the file has the column.
        """
        now = timezone.now()
        today = timezone.localdate()
        reason = _("roster import")
        keys = list(self.new_households)
        created = Household.objects.bulk_create(
            [
                Household(
                    county_id=self.county_of[grid_id], region_id=grid_id, village_id=key[0],
                    number=key[1],
                )
                for key, grid_id in self.new_households.items()
            ],
            batch_size=WRITE_BATCH,
        )
        for key, household in zip(keys, created, strict=True):
            self.households[key] = _HouseholdRow(household.pk, household.region_id, None)

        if self.household_moves:
            moving = Household.objects.in_bulk(
                [self.households[k].pk for k in self.household_moves]
            )
            grids = Region.objects.in_bulk(list(self.household_moves.values()))
            for key, grid_id in self.household_moves.items():
                services.household_move(
                    household=moving[self.households[key].pk], to_grid=grids[grid_id], on=today,
                    reason=reason, actor=actor,
                )
                self.households[key].region_id = grid_id

        if self.moves:
            movers = Resident.objects.select_related("household", "region").in_bulk(
                list(self.moves)
            )
            targets = Household.objects.select_related("region").in_bulk(
                [self.households[k].pk for k in self.moves.values()]
            )
            for pk, key in self.moves.items():
                services.resident_move(
                    resident=movers[pk], to_household=targets[self.households[key].pk], on=today,
                    reason=reason, actor=actor,
                )

        written = 0
        insert = FastInsert(Resident, RESIDENT_INSERT_FIELDS)
        for batch in chunks(self.new_rows, WRITE_BATCH):
            values = []
            for row in batch:
                grid_id = self.grids[row.grid_code].pk
                target = self.households[(self.village_of[grid_id], row.number)]
                phone = row.phone or ""
                values.append((
                    self.county_of[target.region_id], target.region_id, target.pk, row.name,
                    _initials(row.name), row.id_number, row.id_number[-4:], row.sex, row.birth,
                    phone, phone[-4:], row.relation, bool(row.party), now, now,
                ))
            insert.execute(values)
            written += len(batch)
            tick(written)

        audit_items: list[tuple[str, str, dict[str, Any]]] = []
        for batch in chunks(list(self.updates.items()), WRITE_BATCH):
            changed = []
            for pk, row in batch:
                existing = self.existing[row.id_number]
                phone = existing.phone if row.phone is None else row.phone
                party = existing.party if row.party is None else row.party
                diff = self._audit_diff(existing, row, phone, party)
                if diff:  # a household change alone is audited by resident_move
                    audit_items.append((str(pk), row.name, diff))
                changed.append(Resident(
                    pk=pk, name=row.name, name_initials=_initials(row.name), phone=phone,
                    phone_tail=phone[-4:], relation=row.relation, is_party_member=party,
                    updated_at=now,
                ))
            Resident.objects.bulk_update(
                changed,
                ["name", "name_initials", "phone", "phone_tail", "relation", "is_party_member",
                 "updated_at"],
                batch_size=UPDATE_BATCH,
            )
            written += len(batch)
            tick(written)
        # Old and new values per changed resident, as the services record them (a phone
        # change is recorded as changed, never with the numbers).
        audit_record_many(actor=actor, action=AuditEntry.Action.UPDATE, object_type="regions.resident",
                          county_code=self.region.code[:6], items=audit_items, note="roster import")

        self._write_heads(now)
        self._write_tags(now)

    def _write_heads(self, now: dt.datetime) -> None:
        in_file = {self.existing[r.id_number].pk for r in self.rows if r.id_number in self.existing}
        # New residents who head an existing household: their ids (the fast insert returns
        # none; there are few of these).
        new_heads = [
            row.id_number for key, row in self.heads.items()
            if key not in self.new_households and row.id_number not in self.existing
        ]
        new_ids: dict[str, int] = {}
        for chunk in chunks(new_heads, ID_LOOKUP_CHUNK):
            new_ids.update(Resident.objects.filter(id_number__in=chunk).values_list("id_number", "pk"))
        set_head: list[Household] = []
        demote: list[int] = []
        new_with_head: list[int] = []
        for key in self.key_grid:
            household = self.households.get(key)
            if household is None:
                continue  # a household only named by rows with errors (not reached: no errors)
            head_row = self.heads.get(key)
            if key in self.new_households:
                if head_row is not None:
                    new_with_head.append(household.pk)
                continue
            old = household.head_id
            if head_row is not None:
                new: int | None = (
                    self.existing[head_row.id_number].pk if head_row.id_number in self.existing
                    else new_ids[head_row.id_number]
                )
                if old is not None and old != new and old not in in_file:
                    demote.append(old)  # as services._set_head does for a replaced head
            else:
                # The stored head stays unless the file gives that person another relation.
                new = old if old is not None and old not in in_file else None
            if new != old:
                set_head.append(Household(pk=household.pk, head_id=new, updated_at=now))
        for chunk in chunks(demote, ID_LOOKUP_CHUNK):
            Resident.objects.filter(pk__in=chunk, relation=R.HEAD).update(
                relation=R.OTHER, updated_at=now
            )
        Household.objects.bulk_update(set_head, ["head", "updated_at"], batch_size=UPDATE_BATCH)
        # New households hold only the file's residents, exactly one of them the head: one
        # UPDATE … SET head = (subquery) per chunk is far cheaper than a CASE per row.
        head_of = Resident.objects.filter(household=OuterRef("pk"), relation=R.HEAD)
        for chunk in chunks(new_with_head, ID_LOOKUP_CHUNK):
            Household.objects.filter(pk__in=chunk).update(
                head=Subquery(head_of.values("pk")[:1])
            )

    def _write_tags(self, now: dt.datetime) -> None:
        if not self.has_tags:
            return
        through = Household.tags.through
        links: list[Any] = []
        # New households carry only additions; existing ones may also lose types.
        for key, wanted in self.tags.items():
            if key in self.new_households:
                household_id = self.households[key].pk
                links.extend(through(household_id=household_id, tag_id=t) for t in wanted)
        for household_id, wanted in self.household_changes().items():
            current = self.current_tags.get(household_id, set())
            removed = current - wanted
            if removed:
                through.objects.filter(household_id=household_id, tag_id__in=removed).delete()
            links.extend(through(household_id=household_id, tag_id=t) for t in wanted - current)
        through.objects.bulk_create(links, batch_size=WRITE_BATCH, ignore_conflicts=True)
        for chunk in chunks(list(self.household_changes()), ID_LOOKUP_CHUNK):
            Household.objects.filter(pk__in=chunk).update(updated_at=now)
