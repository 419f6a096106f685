"""星级文明户 (star-rated households).

- `Star`: the star catalogue of one village (seeded with the ten typical stars of DOMAIN.md
  the first time it is used; the committee may add stars and deactivate them).
- `StarRound`: one yearly rating of a village. Its `stage` is the step under way, in the order
  自评/申报 → 群众互评 → 两委复评 → 乡镇认定 → 张榜公示 → 授牌 (`hemei.stars.workflow`); each
  step taken is a `StarRoundStep` row (who, when, the stage before and after).
- `StarRating` (the glossary's name): one household in one round, with the stars claimed at
  自评, after 互评, after 两委复评 and the final stars of 乡镇认定; or excluded with a reason.
- `StarChange`: append-only 挂星 (grant) / 摘星 (withdraw) rows. A household's current stars are
  the replay of its changes; `HouseholdStar` caches that replay and `hemei verify` re-derives it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.core.models import AppendOnlyModel, VillageScoped, WorkflowEvent
from hemei.regions.models import Household, Region

# DOMAIN.md: the ten typical stars, in the order villages usually print them.
TYPICAL_STARS: tuple[str, ...] = (
    "爱党爱国",
    "诚实守信",
    "遵纪守法",
    "勤劳致富",
    "孝老爱亲",
    "助人为乐",
    "环保卫生",
    "勤俭节约",
    "移风易俗",
    "文明礼貌",
)


class Stage(models.TextChoices):
    SELF = "self", _("self-assessment and declaration")  # 自评/申报
    PEER = "peer", _("peer review by villagers")  # 群众互评
    COMMITTEE = "committee", _("review by the village committees")  # 两委复评
    TOWNSHIP = "township", _("township approval")  # 乡镇认定
    PUBLICITY = "publicity", _("public notice on the board")  # 张榜公示
    AWARDED = "awarded", _("plaques awarded")  # 授牌


STAGE_ORDER: tuple[str, ...] = tuple(Stage.values)


class ExclusionReason(models.TextChoices):
    """DOMAIN.md: exclusions for crimes, domestic violence, gambling and drugs."""

    CRIME = "crime", _("crime or serious violation of the law")
    DOMESTIC_VIOLENCE = "domestic_violence", _("domestic violence")
    GAMBLING = "gambling", _("gambling")
    DRUGS = "drugs", _("drug use")
    ABSENT = "absent", _("not living in the village")
    OTHER = "other", _("other (see the note)")


class Star(VillageScoped):
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="stars")
    name = models.CharField(_("name"), max_length=30)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("star")
        verbose_name_plural = _("stars")
        ordering = ["village", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["village", "name"], name="stars_star_name_per_village")]

    def __str__(self) -> str:
        return self.name


class StarRound(VillageScoped):
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.SELF)
    publicity_days = models.PositiveSmallIntegerField(_("publicity days"), default=7)
    approved_at = models.DateTimeField(_("approved by the township"), null=True, blank=True)
    publicity_from = models.DateField(_("publicity from"), null=True, blank=True)
    publicity_until = models.DateField(_("publicity until"), null=True, blank=True)
    awarded_on = models.DateField(_("awarded on"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)

    class Meta:
        verbose_name = _("star rating round")
        verbose_name_plural = _("star rating rounds")
        ordering = ["village", "-year"]
        constraints = [models.UniqueConstraint(fields=["village", "year"], name="stars_one_round_per_year")]

    def __str__(self) -> str:
        return f"{self.village.name} {self.year}"

    @property
    def stage_index(self) -> int:
        return STAGE_ORDER.index(self.stage)


class StarRoundStep(WorkflowEvent):
    """One step of a round's procedure (`hemei.stars.workflow`): who took it and when, the
    stage before and after (history rows; the database refuses changing them)."""

    round = models.ForeignKey(StarRound, verbose_name=_("round"), on_delete=models.PROTECT, related_name="steps")

    class Meta:
        verbose_name = _("round step")
        verbose_name_plural = _("round steps")
        ordering = ["round", "at", "id"]

    def __str__(self) -> str:
        return f"{self.round_id} {self.kind}"

    @property
    def stage_label(self) -> str:
        """The stage the step reached (or took place in), in words."""
        try:
            return str(Stage(self.to_state).label)
        except ValueError:
            return self.to_state


class StarRating(VillageScoped):
    """One household in one round. Star lists hold `Star` primary keys (sorted); None means the
    step has not been recorded for this household yet."""

    round = models.ForeignKey(StarRound, verbose_name=_("round"), on_delete=models.PROTECT, related_name="ratings")
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="star_ratings"
    )
    claimed = models.JSONField(_("stars claimed"), null=True, blank=True)
    peer = models.JSONField(_("after peer review"), null=True, blank=True)
    committee = models.JSONField(_("after committee review"), null=True, blank=True)
    final = models.JSONField(_("approved stars"), null=True, blank=True)
    excluded = models.BooleanField(_("excluded"), default=False)
    exclusion_reason = models.CharField(
        _("exclusion reason"), max_length=20, choices=ExclusionReason.choices, blank=True
    )
    exclusion_note = models.CharField(_("exclusion note"), max_length=200, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    declared_at = models.DateTimeField(_("declared"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("star-rated household")
        verbose_name_plural = _("star-rated households")
        constraints = [
            models.UniqueConstraint(fields=["round", "household"], name="stars_one_rating_per_round"),
            models.CheckConstraint(
                condition=models.Q(excluded=False) | ~models.Q(exclusion_reason=""),
                name="stars_exclusion_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.household_id}"

    @property
    def decided(self) -> bool:
        return self.excluded or self.final is not None


class StarChange(VillageScoped, AppendOnlyModel):
    """挂星 / 摘星: never updated or deleted. A correction is a new change."""

    class Kind(models.TextChoices):
        GRANT = "grant", _("star granted")  # 挂星
        WITHDRAW = "withdraw", _("star withdrawn")  # 摘星

    class Source(models.TextChoices):
        ROUND = "round", _("award of a rating round")
        ADHOC = "adhoc", _("decision during the year")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="star_changes"
    )
    star = models.ForeignKey(Star, verbose_name=_("star"), on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(_("change"), max_length=10, choices=Kind.choices)
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=300)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    round = models.ForeignKey(
        StarRound, verbose_name=_("round"), null=True, blank=True, on_delete=models.PROTECT, related_name="changes"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("star change")
        verbose_name_plural = _("star changes")
        ordering = ["household", "date", "pk"]
        indexes = [models.Index(fields=["household", "star"]), models.Index(fields=["village", "date"])]
        constraints = [models.CheckConstraint(condition=~models.Q(reason=""), name="stars_change_has_reason")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.kind} {self.star_id} {self.date}"


class HouseholdStar(models.Model):
    """Cache: the stars a household holds now (replay of its `StarChange` rows)."""

    village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="current_stars")
    star = models.ForeignKey(Star, on_delete=models.PROTECT, related_name="+")
    since = models.DateField(_("since"))
    change = models.ForeignKey(StarChange, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["household", "star"], name="stars_held_once")]

    def __str__(self) -> str:
        return f"{self.household_id}:{self.star_id}"
