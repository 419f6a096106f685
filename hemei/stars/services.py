"""The one writer of star ratings, rounds, the catalogue and star changes.

Every function is keyword-only, atomic, checks the actor's scope (PermissionDenied) and the
input (ValidationError, nothing written), and leaves an audit row.

The yearly procedure of a round (`StarRound.stage` is the step under way):
1. `round_open` (committee): stage 自评/申报; `rating_declare` by the villager for their own
   household, or by a grid worker / the committee on the household's behalf.
2. `round_advance` to 群众互评: each declaration's claim becomes its peer result, which
   `rating_record` (grid worker or committee) changes where the villagers' review differs.
3. `round_advance` to 两委复评: peer results become the committee's; the committee corrects
   them (`rating_record`) and excludes households (`rating_exclude`).
4. `round_advance` to 乡镇认定: township staff of the village's township may correct a
   household's final stars, then `round_township_approve` fixes the final stars of all.
5. `round_publicity_start` (committee): 张榜公示 for `publicity_days` days.
6. `round_award` (committee, after the notice ends): 授牌 writes one 挂星 change per new final
   star and one 摘星 per star held but not confirmed; idempotent.
At any time: `star_grant` / `star_withdraw` with a reason and a date (ad-hoc 挂星 / 摘星).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hemei.core.audit import audit_record, audit_record_many
from hemei.core.idempotency import remembered
from hemei.core.models import AuditEntry
from hemei.core.parsing import county_of
from hemei.core.scope import SYSTEM, require_actor, user_of
from hemei.core.workflow import record, transition
from hemei.regions.models import Household, Level, Region
from hemei.stars import access
from hemei.stars import workflow as flow
from hemei.stars.models import (
    STAGE_ORDER,
    TYPICAL_STARS,
    ExclusionReason,
    HouseholdStar,
    Stage,
    Star,
    StarChange,
    StarRating,
    StarRound,
)

A = AuditEntry.Action


def _county_of(village: Region) -> Region:
    return county_of(village, message=_("Star ratings belong to a village."))


def _require_village(village: Region) -> None:
    if village.level != Level.VILLAGE:
        raise ValidationError(_("Star ratings belong to a village."))


# --- catalogue ---------------------------------------------------------------------------------


def catalogue_ensure(*, village: Region) -> list[Star]:
    """The village's catalogue; the first use seeds DOMAIN.md's ten typical stars. No actor
    check: seeding only writes the published default, recorded as the system."""
    _require_village(village)
    stars = list(Star.objects.filter(village=village).order_by("position", "pk"))
    if stars:
        return stars
    with transaction.atomic():
        county = _county_of(village)
        Star.objects.bulk_create(
            [Star(county=county, village=village, name=name, position=i) for i, name in enumerate(TYPICAL_STARS, 1)],
            ignore_conflicts=True,
        )
        audit_record(
            actor=SYSTEM, action=A.CREATE, object_type="stars.star", object_id=village.code,
            object_repr=f"{village.name}: {len(TYPICAL_STARS)} stars", county_code=village.code[:6],
            changes={"stars": list(TYPICAL_STARS)}, note="default catalogue",
        )
    return list(Star.objects.filter(village=village).order_by("position", "pk"))


def star_add(*, actor: Any, village: Region, name: str) -> Star:
    require_actor(actor)
    _require_village(village)
    access.require(actor, village, access.COMMITTEE_ROLES)
    name = (name or "").strip()
    if not name or len(name) > 30:
        raise ValidationError(_("Give the star a name of at most 30 characters."))
    catalogue_ensure(village=village)
    with transaction.atomic():
        if Star.objects.filter(village=village, name=name).exists():
            raise ValidationError(_("The village already has a star of that name."))
        position = (Star.objects.filter(village=village).order_by("-position").values_list("position", flat=True)
                    .first() or 0) + 1
        star = Star.objects.create(county=_county_of(village), village=village, name=name, position=position)
        audit_record(actor=actor, action=A.CREATE, obj=star, changes={"name": name})
    return star


def star_set_active(*, actor: Any, star: Star, active: bool) -> Star:
    require_actor(actor)
    access.require(actor, star.village, access.COMMITTEE_ROLES)
    with transaction.atomic():
        star = Star.objects.select_for_update().get(pk=star.pk)
        if star.active != active:
            audit_record(actor=actor, action=A.UPDATE, obj=star, changes={"active": [star.active, active]})
            star.active = active
            star.save(update_fields=["active"])
    return star


def _check_stars(village: Region, star_ids: Iterable[int | str]) -> list[int]:
    """Sorted, de-duplicated ids of active stars of the village; anything else is an error."""
    try:
        ids = sorted({int(s) for s in star_ids})
    except (TypeError, ValueError):
        raise ValidationError(_("A star is not in this village's catalogue.")) from None
    known = set(Star.objects.filter(village=village, active=True, pk__in=ids).values_list("pk", flat=True))
    if len(known) != len(ids):
        raise ValidationError(_("A star is not in this village's catalogue."))
    return ids


# --- rounds ------------------------------------------------------------------------------------


def _locked_round(rnd: StarRound) -> StarRound:
    """The round, locked until the transaction ends: a rating is written against the stage as
    read, and a step sent twice at once waits and then finds itself done (writes nothing)."""
    return StarRound.objects.select_for_update().select_related("village").get(pk=rnd.pk)


def _out_of_order(rnd: StarRound) -> ValidationError:
    return ValidationError(_("Steps are taken in order; this round is at: %(stage)s.")
                           % {"stage": rnd.get_stage_display()}, code="transition")


def round_open(*, actor: Any, village: Region, year: int, publicity_days: int = 7,
               at: dt.datetime | None = None) -> StarRound:
    require_actor(actor)
    _require_village(village)
    access.require(actor, village, access.COMMITTEE_ROLES)
    if not 1 <= publicity_days <= 60:
        raise ValidationError(_("The public notice lasts 1 to 60 days."))
    if not 2000 <= year <= 2100:
        raise ValidationError(_("Give a year between 2000 and 2100."))
    catalogue_ensure(village=village)
    with transaction.atomic():
        if StarRound.objects.filter(village=village, year=year).exists():
            raise ValidationError(_("This village already has a round for that year."))
        rnd = StarRound.objects.create(
            county=_county_of(village), village=village, year=year, publicity_days=publicity_days,
            opened_at=at or timezone.now(),
        )
        record(rnd, kind=flow.OPENED, actor=actor, at=at, to_state=Stage.SELF)
        audit_record(actor=actor, action=A.CREATE, obj=rnd, changes={"year": year, "publicity_days": publicity_days})
    return rnd


# What entering a step carries over: each rating's field ← the first value set of the step before.
_CARRY: dict[str, tuple[str, tuple[str, ...]]] = {
    Stage.PEER: ("peer", ("claimed",)),
    Stage.COMMITTEE: ("committee", ("peer", "claimed")),
}


def _carry_over(rnd: StarRound, to: str) -> None:
    if to not in _CARRY:
        return
    field, sources = _CARRY[to]
    todo = list(StarRating.objects.filter(round=rnd, **{f"{field}__isnull": True}))
    for r in todo:
        setattr(r, field, next((getattr(r, s) for s in sources if getattr(r, s) is not None), []))
    StarRating.objects.bulk_update(todo, [field], batch_size=500)


def round_advance(*, actor: Any, round: StarRound, to: str, at: dt.datetime | None = None) -> StarRound:
    """Close one of the first three steps and start the next (committee). Entering a step
    carries each household's result of the step before over as its starting value."""
    require_actor(actor)
    access.require(actor, round.village, access.COMMITTEE_ROLES)
    with transaction.atomic():
        rnd = _locked_round(round)
        if rnd.stage == to and to in (Stage.PEER, Stage.COMMITTEE, Stage.TOWNSHIP):
            return rnd  # the same form sent twice: already done, write nothing
        if to not in (Stage.PEER, Stage.COMMITTEE, Stage.TOWNSHIP):
            raise _out_of_order(rnd)
        transition(rnd, to, actor=actor, move=flow.started(to), at=at)
        _carry_over(rnd, to)
    return rnd


def round_township_approve(*, actor: Any, round: StarRound, note: str = "",
                           at: dt.datetime | None = None) -> StarRound:
    """乡镇认定: township staff of the village's township approve; households without a final
    correction get the committee's stars, excluded households none."""
    require_actor(actor)
    access.require(actor, round.village, access.TOWNSHIP_ROLES)
    with transaction.atomic():
        rnd = _locked_round(round)
        if rnd.stage == Stage.TOWNSHIP and rnd.approved_at is not None:
            return rnd  # sent twice
        if rnd.stage != Stage.TOWNSHIP:
            raise _out_of_order(rnd)
        transition(rnd, Stage.TOWNSHIP, actor=actor, move=flow.APPROVED, at=at, note=note[:300],
                   expect={"approved_at": None}, approved_at=at or timezone.now(),
                   changes={"approved": True}, audit_note=note)
        todo = list(StarRating.objects.filter(round=rnd, final__isnull=True, excluded=False))
        for r in todo:
            r.final = r.committee or []
        StarRating.objects.bulk_update(todo, ["final"], batch_size=500)
    return rnd


def round_publicity_start(*, actor: Any, round: StarRound, at: dt.datetime | None = None) -> StarRound:
    require_actor(actor)
    access.require(actor, round.village, access.COMMITTEE_ROLES)
    with transaction.atomic():
        rnd = _locked_round(round)
        if rnd.stage == Stage.PUBLICITY:
            return rnd  # sent twice
        if rnd.stage != Stage.TOWNSHIP or rnd.approved_at is None:
            raise ValidationError(_("The public notice starts after the township's approval."), code="transition")
        start = timezone.localdate(at) if at else timezone.localdate()
        until = start + dt.timedelta(days=rnd.publicity_days)
        transition(rnd, Stage.PUBLICITY, actor=actor, move=flow.PUBLICITY_STARTED, at=at, note=f"{start}–{until}",
                   expect={"approved_at__isnull": False}, publicity_from=start, publicity_until=until,
                   changes={"stage": [Stage.TOWNSHIP, Stage.PUBLICITY], "until": until})
    return rnd


def round_award(*, actor: Any, round: StarRound, at: dt.datetime | None = None) -> tuple[StarRound, int]:
    """授牌 after the notice: returns (round, changes written). A second call writes nothing.

    For each non-excluded household the final stars become its current stars: 挂星 for a final
    star not held, 摘星 for a held star the round did not confirm; an excluded household loses
    every star it holds. Bulk inserts: a village of 450 households is a few thousand rows."""
    require_actor(actor)
    access.require(actor, round.village, access.COMMITTEE_ROLES)
    with transaction.atomic():
        rnd = _locked_round(round)
        if rnd.stage == Stage.AWARDED:
            return rnd, 0
        day = timezone.localdate(at) if at else timezone.localdate()
        if rnd.stage != Stage.PUBLICITY or rnd.publicity_until is None:
            raise _out_of_order(rnd)
        if day < rnd.publicity_until:
            raise ValidationError(_("The public notice runs until %(date)s.") % {"date": rnd.publicity_until})
        # The changes, then the move: a second award waits on the households' lock and then
        # fails the move's conditional update, which rolls its whole transaction back.
        written = _award_changes(rnd, actor=actor, day=day, recorded=at or timezone.now())
        transition(rnd, Stage.AWARDED, actor=actor, move=flow.AWARDED, at=at, awarded_on=day,
                   changes={"stage": [Stage.PUBLICITY, Stage.AWARDED], "changes": written})
    return rnd, written


def _award_changes(rnd: StarRound, *, actor: Any, day: dt.date, recorded: dt.datetime) -> int:
    """Write the award's 挂星/摘星 rows and replay them onto the cache; returns how many."""
    user = user_of(actor)
    ratings = list(StarRating.objects.filter(round=rnd).select_related("household"))
    # Lock the households' cached stars: ad-hoc changes of these households wait.
    list(Household.objects.select_for_update().filter(village=rnd.village).values_list("pk", flat=True))
    held: dict[int, set[int]] = {}
    for h_id, s_id in HouseholdStar.objects.filter(village=rnd.village).values_list("household_id", "star_id"):
        held.setdefault(h_id, set()).add(s_id)
    reason_grant = _("%(year)s star rating") % {"year": rnd.year}
    reason_drop = _("Not confirmed in the %(year)s star rating") % {"year": rnd.year}
    reason_excluded = _("Excluded in the %(year)s star rating") % {"year": rnd.year}
    common = {"county_id": rnd.county_id, "village_id": rnd.village_id, "date": day, "source": StarChange.Source.ROUND,
              "round": rnd, "actor": user, "recorded_at": recorded}
    changes: list[StarChange] = []
    for r in ratings:
        final = set() if r.excluded else set(r.final or [])
        now_held = held.get(r.household_id, set())
        changes += [StarChange(household_id=r.household_id, star_id=star_id, kind=StarChange.Kind.GRANT,
                               reason=reason_grant, **common) for star_id in sorted(final - now_held)]
        changes += [StarChange(household_id=r.household_id, star_id=star_id, kind=StarChange.Kind.WITHDRAW,
                               reason=reason_excluded if r.excluded else reason_drop, **common)
                    for star_id in sorted(now_held - final)]
    written = StarChange.objects.bulk_create(changes, batch_size=2000)
    if written and written[0].pk is None:  # backends without RETURNING on bulk insert
        written = list(StarChange.objects.filter(round=rnd).order_by("pk"))
    _apply_cache(written)
    return len(written)


def _apply_cache(changes: Sequence[StarChange]) -> None:
    """Replay new changes onto the `HouseholdStar` cache (in the writer's transaction)."""
    grants = [c for c in changes if c.kind == StarChange.Kind.GRANT]
    drops = [c for c in changes if c.kind == StarChange.Kind.WITHDRAW]
    for c in drops:
        HouseholdStar.objects.filter(household_id=c.household_id, star_id=c.star_id).delete()
    HouseholdStar.objects.bulk_create(
        [HouseholdStar(village_id=c.village_id, household_id=c.household_id, star_id=c.star_id, since=c.date,
                       change=c) for c in grants],
        batch_size=2000,
    )


# --- ratings -----------------------------------------------------------------------------------


def _rating_for(rnd: StarRound, household: Household, *, create: bool) -> StarRating | None:
    if household.village_id != rnd.village_id:
        raise ValidationError(_("The household does not belong to this round's village."))
    rating = StarRating.objects.select_for_update().filter(round=rnd, household=household).first()
    if rating is None and create:
        rating = StarRating.objects.create(round=rnd, county_id=rnd.county_id, village_id=rnd.village_id,
                                           household=household)
    return rating


def rating_declare(*, actor: Any, round: StarRound, household: Household, stars: Iterable[int | str]) -> StarRating:
    """自评/申报: the stars a household claims. A repeated declaration replaces the claim."""
    require_actor(actor)
    if not access.may_declare(actor, household):
        raise PermissionDenied
    ids = _check_stars(round.village, stars)
    with transaction.atomic():
        rnd = _locked_round(round)
        if rnd.stage != Stage.SELF:
            raise ValidationError(_("Declarations are taken only during self-declaration."))
        rating = _rating_for(rnd, household, create=True)
        assert rating is not None
        old = rating.claimed
        rating.claimed = ids
        rating.declared_by = user_of(actor)
        rating.declared_at = rating.updated_at = timezone.now()
        rating.save(update_fields=["claimed", "declared_by", "declared_at", "updated_at"])
        if old != ids:
            audit_record(actor=actor, action=A.UPDATE, obj=rating, changes={"claimed": [old, ids]})
    return rating


# The field each stage records and who records it.
_RECORD_FIELD = {Stage.PEER: "peer", Stage.COMMITTEE: "committee", Stage.TOWNSHIP: "final"}


def _may_record(actor: Any, rnd: StarRound, household: Household) -> bool:
    if rnd.stage == Stage.PEER:
        return access.may(actor, household.region, access.GRID_ROLES | access.COMMITTEE_ROLES)
    if rnd.stage == Stage.COMMITTEE:
        return access.may(actor, rnd.village, access.COMMITTEE_ROLES)
    if rnd.stage == Stage.TOWNSHIP:
        return access.may(actor, rnd.village, access.TOWNSHIP_ROLES)
    return access.may(actor, rnd.village, access.COMMITTEE_ROLES)


def rating_record(*, actor: Any, round: StarRound, household: Household, stars: Iterable[int | str],
                  note: str = "") -> StarRating:
    """Record a household's stars for the step under way: the 互评 result, the 两委复评 result
    or the township's correction before its approval."""
    require_actor(actor)
    ids = _check_stars(round.village, stars)
    with transaction.atomic():
        rnd = _locked_round(round)
        if not _may_record(actor, rnd, household):
            raise PermissionDenied
        field = _RECORD_FIELD.get(Stage(rnd.stage))
        if field is None or (rnd.stage == Stage.TOWNSHIP and rnd.approved_at is not None):
            raise ValidationError(_("Steps are taken in order; this round is at: %(stage)s.")
                                  % {"stage": rnd.get_stage_display()})
        rating = _rating_for(rnd, household, create=True)
        assert rating is not None
        if rating.excluded:
            raise ValidationError(_("This household is excluded from this round and cannot be given stars."))
        old = getattr(rating, field)
        setattr(rating, field, ids)
        rating.updated_at = timezone.now()
        rating.save(update_fields=[field, "updated_at"])
        audit_record(actor=actor, action=A.UPDATE, obj=rating, changes={field: [old, ids]}, note=note)
    return rating


def rating_exclude(*, actor: Any, round: StarRound, household: Household, reason: str, note: str = "") -> StarRating:
    """Exclude a household (两委复评 or 乡镇认定) with a reason from the list."""
    require_actor(actor)
    rnd0 = round
    if not access.may(actor, rnd0.village, access.COMMITTEE_ROLES | access.TOWNSHIP_ROLES):
        raise PermissionDenied
    if reason not in ExclusionReason.values:
        raise ValidationError(_("Choose an exclusion reason from the list."))
    if reason == ExclusionReason.OTHER and not note.strip():
        raise ValidationError(_("Say why in the note."))
    with transaction.atomic():
        rnd = _locked_round(rnd0)
        if rnd.stage not in (Stage.COMMITTEE, Stage.TOWNSHIP) or rnd.approved_at is not None:
            raise ValidationError(_("Households are excluded during the committee's review or the township's."))
        rating = _rating_for(rnd, household, create=True)
        assert rating is not None
        if rating.excluded:
            raise ValidationError(_("This household is already excluded."))
        rating.excluded = True
        rating.exclusion_reason = reason
        rating.exclusion_note = note.strip()[:200]
        rating.final = None
        rating.updated_at = timezone.now()
        rating.save(update_fields=["excluded", "exclusion_reason", "exclusion_note", "final", "updated_at"])
        audit_record(actor=actor, action=A.UPDATE, obj=rating, changes={"excluded": [False, True], "reason": reason},
                     note=note)
    return rating


def ratings_enter(*, actor: Any, round: StarRound, rows: Sequence[tuple[Household, list[int], str, str]]) -> int:
    """The committee enters a whole round's declarations from the paper forms in one go:
    (household, claimed star ids, exclusion reason or "", note) per household, during
    自评/申报. All or nothing; one audit row per household (bulk)."""
    require_actor(actor)
    access.require(actor, round.village, access.COMMITTEE_ROLES)
    valid = set(Star.objects.filter(village=round.village, active=True).values_list("pk", flat=True))
    for household, ids, reason, _note in rows:
        if household.village_id != round.village_id:
            raise ValidationError(_("The household does not belong to this round's village."))
        if not set(ids) <= valid:
            raise ValidationError(_("A star is not in this village's catalogue."))
        if reason and reason not in ExclusionReason.values:
            raise ValidationError(_("Choose an exclusion reason from the list."))
    with transaction.atomic():
        rnd = _locked_round(round)
        if rnd.stage != Stage.SELF:
            raise ValidationError(_("Declarations are taken only during self-declaration."))
        if StarRating.objects.filter(round=rnd, household__in=[r[0] for r in rows]).exists():
            raise ValidationError(_("Some of these households have already declared."))
        now = timezone.now()
        user = user_of(actor)
        objs = [
            StarRating(round=rnd, county_id=rnd.county_id, village_id=rnd.village_id, household=h,
                       claimed=sorted(set(ids)), declared_by=user, declared_at=now, updated_at=now,
                       excluded=bool(reason), exclusion_reason=reason, exclusion_note=note[:200])
            for h, ids, reason, note in rows
        ]
        StarRating.objects.bulk_create(objs, batch_size=2000)
        audit_record_many(actor=actor, action=A.CREATE, object_type="stars.starrating",
                          county_code=rnd.village.code[:6],
                          items=[(str(h.pk), f"{rnd}/{h.number}", {"claimed": sorted(set(ids)), "excluded": reason})
                                 for h, ids, reason, _n in rows])
    return len(objs)


# --- ad-hoc 挂星 / 摘星 ------------------------------------------------------------------------


def _check_change(household: Household, star: Star, date: dt.date, reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason."))
    if len(reason) > 300:
        raise ValidationError(_("The reason is longer than 300 characters."))
    if star.village_id != household.village_id:
        raise ValidationError(_("A star is not in this village's catalogue."))
    if not isinstance(date, dt.date) or date > timezone.localdate():
        raise ValidationError(_("Give the date of the decision (not in the future)."))
    last = StarChange.objects.filter(household=household, star=star).order_by("-pk").values_list("date", flat=True)
    if last.first() is not None and date < last.first():  # type: ignore[operator]
        raise ValidationError(_("The date is before this star's last change."))
    return reason


def _adhoc(*, actor: Any, household: Household, star: Star, date: dt.date, reason: str, kind: str,
           idempotency_key: str) -> StarChange:
    access.require(actor, household.village, access.COMMITTEE_ROLES)
    payload = {"household": household.pk, "star": star.pk, "date": str(date), "reason": reason, "kind": kind}

    def write() -> list[StarChange]:
        checked = _check_change(household, star, date, reason)
        Household.objects.select_for_update().filter(pk=household.pk).values_list("pk", flat=True).first()
        held = HouseholdStar.objects.filter(household=household, star=star).exists()
        if kind == StarChange.Kind.GRANT:
            if not star.active:
                raise ValidationError(_("This star is no longer in use."))
            if held:
                raise ValidationError(_("The household already holds this star."))
            latest = (StarRating.objects.filter(household=household).select_related("round")
                      .order_by("-round__year").first())
            if latest is not None and latest.excluded and latest.round.year >= date.year:
                raise ValidationError(_("This household is excluded from the %(year)s rating.")
                                      % {"year": latest.round.year})
        elif not held:
            raise ValidationError(_("The household does not hold this star."))
        change = StarChange.objects.create(
            county_id=household.county_id, village_id=household.village_id, household=household, star=star,
            kind=kind, date=date, reason=checked, source=StarChange.Source.ADHOC,
            actor=user_of(actor),
        )
        _apply_cache([change])
        audit_record(actor=actor, action=A.CREATE, obj=change,
                     changes={"kind": kind, "star": star.name, "date": date, "reason": checked})
        return [change]

    with transaction.atomic():
        results, _replayed = remembered(actor=actor, key=idempotency_key, operation=f"stars.{kind}",
                                        payload=payload, model=StarChange, write=write)
    return results[0]


def star_grant(*, actor: Any, household: Household, star: Star, date: dt.date, reason: str,
               idempotency_key: str) -> StarChange:
    """挂星 during the year (committee), with a reason and the date of the decision."""
    require_actor(actor)
    return _adhoc(actor=actor, household=household, star=star, date=date, reason=reason,
                  kind=StarChange.Kind.GRANT, idempotency_key=idempotency_key)


def star_withdraw(*, actor: Any, household: Household, star: Star, date: dt.date, reason: str,
                  idempotency_key: str) -> StarChange:
    """摘星 (committee), with a reason and the date of the decision."""
    require_actor(actor)
    return _adhoc(actor=actor, household=household, star=star, date=date, reason=reason,
                  kind=StarChange.Kind.WITHDRAW, idempotency_key=idempotency_key)


def next_stage(stage: str) -> str | None:
    i = STAGE_ORDER.index(stage)
    return STAGE_ORDER[i + 1] if i + 1 < len(STAGE_ORDER) else None
