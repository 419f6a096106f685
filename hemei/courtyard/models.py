"""美丽庭院评比 (CourtyardReview in the glossary): a panel visits households and scores them.

- `ReviewEvent`: one review in one village, draft → scoring → closed → awarded. Its criteria
  (weights sum to 100, each with a maximum score), its panel (staff of the village or the
  township), the households to visit and the plaque tiers (each mapped to a contribution item
  of the village's adopted points rules) are fixed while it is a draft.
- `Submission` + `Score`: an evaluator scores one household on all criteria at once. A new
  submission for the same evaluator and household (allowed until close) is a new row that
  `supersedes` the earlier one; nothing is updated or deleted, so the history stays.
- `Result`: written once at close: the household's total (mean, or trimmed mean, of the
  evaluators' weighted totals), its rank (ties share a rank) and its plaque tier. The award
  proposes points entries through the points ledger and links them here.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.core.models import AppendOnlyModel, VillageScoped, WorkflowEvent
from hemei.points.models import Entry, RuleItem
from hemei.regions.models import Household, Region


class ReviewEvent(VillageScoped):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SCORING = "scoring", _("scoring")
        CLOSED = "closed", _("closed")
        AWARDED = "awarded", _("awarded")

    class Method(models.TextChoices):
        MEAN = "mean", _("mean of the evaluators")
        TRIMMED = "trimmed", _("trimmed mean (drop the highest and the lowest evaluator)")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="courtyard_reviews"
    )
    title = models.CharField(_("title"), max_length=100)
    date = models.DateField(_("review date"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices, default=Method.MEAN)
    panel = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("panel"), related_name="+")
    households = models.ManyToManyField(Household, verbose_name=_("households"), related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    opened_at = models.DateTimeField(_("scoring opened"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    awarded_at = models.DateTimeField(_("awarded"), null=True, blank=True)

    class Meta:
        verbose_name = _("courtyard review")
        verbose_name_plural = _("courtyard reviews")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["village", "status"], name="courtyard_event_village")]

    def __str__(self) -> str:
        return self.title


class Criterion(models.Model):
    event = models.ForeignKey(ReviewEvent, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(_("criterion"), max_length=50)
    weight = models.PositiveSmallIntegerField(_("weight"))
    max_score = models.DecimalField(
        _("maximum score"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["event", "sort", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "name"], name="courtyard_criterion_name"),
            models.CheckConstraint(condition=models.Q(weight__gte=1, weight__lte=100), name="courtyard_weight_range"),
            models.CheckConstraint(condition=models.Q(max_score__gt=0), name="courtyard_max_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.weight})"


class Tier(models.Model):
    """A plaque tier: the first tier (by `sort`) a household qualifies for is its plaque.
    Qualifies = (no `top_n` or rank ≤ top_n) and (no `min_total` or total ≥ min_total)."""

    event = models.ForeignKey(ReviewEvent, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(_("plaque"), max_length=30)
    top_n = models.PositiveSmallIntegerField(_("top N"), null=True, blank=True)
    min_total = models.DecimalField(_("minimum total"), max_digits=5, decimal_places=2, null=True, blank=True)
    item = models.ForeignKey(RuleItem, verbose_name=_("points rule item"), on_delete=models.PROTECT, related_name="+")
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("plaque tier")
        verbose_name_plural = _("plaque tiers")
        ordering = ["event", "sort", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(top_n__isnull=False) | models.Q(min_total__isnull=False),
                name="courtyard_tier_has_rule",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Submission(AppendOnlyModel):
    """One evaluator's scores for one household (all criteria). Append-only: a resubmission
    before close is a new row pointing at the one it replaces (`supersedes`, unique, so two
    concurrent resubmissions cannot both replace the same row)."""

    event = models.ForeignKey(ReviewEvent, on_delete=models.PROTECT, related_name="submissions")
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)

    class Meta:
        verbose_name = _("score sheet")
        verbose_name_plural = _("score sheets")
        ordering = ["event", "household", "evaluator", "submitted_at", "id"]
        indexes = [models.Index(fields=["event", "evaluator", "household"], name="courtyard_sub_lookup")]
        constraints = [
            # Only one first sheet per evaluator and household; later ones supersede it.
            models.UniqueConstraint(
                fields=["event", "evaluator", "household"],
                condition=models.Q(supersedes__isnull=True),
                name="courtyard_one_first_sheet",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id}/{self.evaluator_id}/{self.household_id}"


class Score(AppendOnlyModel):
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(fields=["submission", "criterion"], name="courtyard_score_once"),
            models.CheckConstraint(condition=models.Q(score__gte=0), name="courtyard_score_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.score}"


class Result(models.Model):
    event = models.ForeignKey(ReviewEvent, on_delete=models.PROTECT, related_name="results")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    total = models.DecimalField(_("total"), max_digits=5, decimal_places=2)
    rank = models.PositiveIntegerField(_("rank"))
    evaluator_totals = models.JSONField(_("evaluator totals"), default=list)  # ["87.50", ...] by evaluator id
    tier = models.ForeignKey(Tier, verbose_name=_("plaque"), null=True, blank=True, on_delete=models.PROTECT)
    entry = models.OneToOneField(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("review result")
        verbose_name_plural = _("review results")
        ordering = ["event", "rank", "household__number"]
        constraints = [models.UniqueConstraint(fields=["event", "household"], name="courtyard_result_once")]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.total} #{self.rank}"


class ReviewStatusChange(WorkflowEvent):
    """One change of a review's status (`hemei.courtyard.workflow`): history rows."""

    review = models.ForeignKey(
        ReviewEvent, verbose_name=_("review"), on_delete=models.PROTECT, related_name="status_changes"
    )

    class Meta:
        verbose_name = _("review status change")
        verbose_name_plural = _("review status changes")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.review_id} {self.from_state} → {self.to_state}"
