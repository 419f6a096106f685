"""积分制: democratically adopted rules, the points ledger with publicity and objections, and
the points shop (积分超市).

- Rules: a `RuleSet` per village with its cycle settings; `RuleVersion`s of it, each taking
  effect only after a recorded adoption by a village meeting (an `AgendaItem` of
  `hemei.meetings` that passed); `RuleItem`s of a version. Old versions stay readable and
  every entry keeps the version it was made under.
- Ledger (ARCHITECTURE rule 4): `Entry` rows. A scored entry is proposed, reviewed by the
  village committee, shown in publicity, and becomes effective when publicity ends without an
  open objection. Effective entries are immutable (services, model, database trigger) and are
  chained per village (`hemei.core.chain`, kind "points": sequence, prev_hash, entry_hash). `Account.balance` is a
  cached figure that `hemei verify` re-derives from the effective entries.
- Shop: `Reward`, `StockMovement` (the stock is their sum), `Redemption` (a negative effective
  entry and a stock movement in one transaction).
- Every write carries an idempotency key (`hemei.core.idempotency`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.core.models import WorkflowEvent
from hemei.regions.models import Household, Region, Resident


class ImmutableEntryError(Exception):
    """Raised when code tries to change or remove an effective ledger entry."""


class RuleSet(models.Model):
    """The points rules of one village and its cycle settings (2020 notice: adopted by a
    村民会议 or 村民代表会议; the figures vary by place, so they are settings)."""

    class ScoringPeriod(models.TextChoices):
        MONTH = "month", _("month")

    class RedemptionPeriod(models.TextChoices):
        MONTH = "month", _("month")
        QUARTER = "quarter", _("quarter")
        YEAR = "year", _("year")

    class AfterRedemption(models.TextChoices):
        CARRY_OVER = "carry_over", _("carry the balance over")
        RESET = "reset", _("reset to zero after each redemption period")

    class Ranking(models.TextChoices):
        NONE = "none", _("no public ranking")
        TOP = "top", _("top households only")
        ALL = "all", _("all households")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.OneToOneField(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="point_rule_set"
    )
    name = models.CharField(_("name"), max_length=100)
    scoring_period = models.CharField(
        _("scoring period"), max_length=10, choices=ScoringPeriod.choices, default=ScoringPeriod.MONTH
    )
    publicity_days = models.PositiveSmallIntegerField(_("publicity days"), default=7)
    redemption_period = models.CharField(
        _("redemption period"), max_length=10, choices=RedemptionPeriod.choices, default=RedemptionPeriod.QUARTER
    )
    after_redemption = models.CharField(
        _("after a redemption period"),
        max_length=12,
        choices=AfterRedemption.choices,
        default=AfterRedemption.CARRY_OVER,
    )
    min_balance_to_redeem = models.PositiveIntegerField(_("minimum balance to redeem"), default=0)
    exclude_absent = models.BooleanField(_("exclude households not living in the village"), default=True)
    # The village's publicity setting for rankings (some villages publish a top list, others
    # nothing, to spare the households at the bottom).
    ranking = models.CharField(_("public ranking"), max_length=6, choices=Ranking.choices, default=Ranking.NONE)
    ranking_top_n = models.PositiveSmallIntegerField(_("households in a top list"), default=10)
    # The last redemption period ("2026Q3") whose balances the reset sweep has zeroed: a
    # second sweep of the same boundary finds it done.
    reset_done_period = models.CharField(_("last period reset"), max_length=7, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("points rule set")
        verbose_name_plural = _("points rule sets")

    def __str__(self) -> str:
        return self.name

    @property
    def county_code(self) -> str:
        return self.village.code[:6] if self.village_id else ""

    def current_version(self) -> RuleVersion | None:
        return self.versions.filter(state=RuleVersion.State.ADOPTED).order_by("-number").first()


class RuleVersion(models.Model):
    """One version of a village's rules. Draft → adopted (by a passed agenda item of a
    村民会议 / 村民代表会议) → superseded by the next adopted version."""

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        ADOPTED = "adopted", _("adopted")
        SUPERSEDED = "superseded", _("superseded")

    rule_set = models.ForeignKey(RuleSet, verbose_name=_("rule set"), on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)
    # The recorded adoption: the meeting and the agenda item that passed it, with the figures
    # copied so the public page needs no join and a later correction of the meeting shows.
    adopted_by = models.ForeignKey(
        "meetings.Meeting",
        verbose_name=_("adopted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    adopted_item = models.ForeignKey(
        "meetings.AgendaItem",
        verbose_name=_("agenda item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    adopted_on = models.DateField(_("adopted on"), null=True, blank=True)
    attendees = models.PositiveIntegerField(_("attendees"), null=True, blank=True)
    votes_for = models.PositiveIntegerField(_("votes for"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(_("votes against"), null=True, blank=True)
    votes_abstain = models.PositiveIntegerField(_("abstentions"), null=True, blank=True)
    # The version whose adoption ended this one (the table's `superseded` move needs it).
    superseded_by = models.ForeignKey(
        "self", verbose_name=_("superseded by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("rule version")
        verbose_name_plural = _("rule versions")
        ordering = ["rule_set", "number"]
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "number"], name="points_version_number"),
            # At most one adopted (current) version per rule set.
            models.UniqueConstraint(
                fields=["rule_set"], condition=models.Q(state="adopted"), name="points_one_adopted_version"
            ),
            models.CheckConstraint(
                condition=models.Q(state="draft") | models.Q(adopted_item__isnull=False),
                name="points_version_adoption_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_set} v{self.number}"

    @property
    def county_code(self) -> str:
        return self.rule_set.county_code


class RuleVersionEvent(WorkflowEvent):
    """A rule version adopted or superseded (`hemei.points.workflow.RULE_VERSION`)."""

    version = models.ForeignKey(RuleVersion, verbose_name=_("rule version"), on_delete=models.PROTECT,
                                related_name="events")

    class Meta:
        verbose_name = _("rule version event")
        verbose_name_plural = _("rule version events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.version_id} {self.from_state} → {self.to_state}"


class RuleItem(models.Model):
    class Kind(models.TextChoices):
        BASIC = "basic", _("basic points")  # 基础积分
        CONTRIBUTION = "contribution", _("contribution points")  # 贡献积分
        DEDUCTION = "deduction", _("deduction")  # 扣分

    class Proposer(models.TextChoices):
        GRID = "grid", _("grid worker or committee")
        COMMITTEE = "committee", _("village committee only")
        PANEL = "panel", _("review panel (entered by the committee)")

    version = models.ForeignKey(
        RuleVersion, verbose_name=_("rule version"), on_delete=models.PROTECT, related_name="items"
    )
    code = models.CharField(_("code"), max_length=10)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=200)
    points = models.IntegerField(_("points"))
    evidence = models.CharField(_("evidence needed"), max_length=200, blank=True)
    cap_per_period = models.PositiveIntegerField(
        _("cap per household per period"),
        null=True,
        blank=True,
        help_text=_("Largest total (in absolute points) of this item for one household in one scoring period."),
    )
    proposer = models.CharField(_("who may propose"), max_length=10, choices=Proposer.choices, default=Proposer.GRID)

    class Meta:
        verbose_name = _("rule item")
        verbose_name_plural = _("rule items")
        ordering = ["version", "code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="points_item_code"),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="deduction", points__lt=0) | (~models.Q(kind="deduction") & models.Q(points__gt=0))
                ),
                name="points_item_sign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description} ({self.points:+d})"


class Account(models.Model):
    """One points account per household (一户一档). `balance` is cached: the sum of the
    household's effective entries, re-derived by `hemei verify`."""

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    household = models.OneToOneField(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="points_account"
    )
    balance = models.IntegerField(_("balance"), default=0)
    entries_count = models.PositiveIntegerField(_("effective entries"), default=0)
    last_sequence = models.PositiveIntegerField(_("last chain sequence"), default=0)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [models.CheckConstraint(condition=models.Q(balance__gte=0), name="points_balance_not_negative")]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.balance}"


class EntryQuerySet(models.QuerySet["Entry"]):
    def update(self, **kwargs: Any) -> int:
        # A bulk update could touch effective rows; only rows not yet effective may change.
        return super(EntryQuerySet, self.exclude(state=Entry.State.EFFECTIVE)).update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableEntryError("ledger entries are never deleted")


class Entry(models.Model):
    """One line of the points ledger (积分台账, PointEntry in the glossary)."""

    class Kind(models.TextChoices):
        SCORE = "score", _("scored")
        REDEMPTION = "redemption", _("redemption")
        CANCELLATION = "cancellation", _("redemption cancelled")
        REVERSAL = "reversal", _("correction")
        RESET = "reset", _("period reset")

    class State(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        REJECTED = "rejected", _("rejected")
        PUBLICITY = "publicity", _("in publicity")
        EFFECTIVE = "effective", _("effective")
        VOIDED = "voided", _("voided after objection")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="point_entries"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.SCORE)
    item = models.ForeignKey(
        RuleItem, verbose_name=_("rule item"), null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    version = models.ForeignKey(
        RuleVersion,
        verbose_name=_("rule version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
    )
    points = models.IntegerField(_("points"))
    deed_date = models.DateField(_("date of the deed"))
    period = models.CharField(_("period"), max_length=7, db_index=True)  # "2026-10"
    evidence = models.CharField(_("evidence"), max_length=500, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)  # rejection or correction
    corrects = models.ForeignKey(
        "self", verbose_name=_("corrects"), null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    publicity_until = models.DateTimeField(_("publicity until"), null=True, blank=True)
    # Counted in the entry row itself, so that the sweep's locked re-read sees a new objection
    # (a subquery on the objection table would be evaluated on an older snapshot).
    open_objections = models.PositiveSmallIntegerField(_("open objections"), default=0)
    effective_at = models.DateTimeField(_("effective"), null=True, blank=True)
    sequence = models.PositiveIntegerField(_("chain sequence"), null=True, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True)
    entry_hash = models.CharField(_("entry hash"), max_length=64, blank=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["village", "sequence"], name="points_entry_chain_sequence"),
            models.UniqueConstraint(
                fields=["corrects"], condition=models.Q(kind="reversal"), name="points_entry_reversed_once"
            ),
            # A reset entry's period is the redemption period it closes ("2026Q3"): once per household.
            models.UniqueConstraint(
                fields=["household", "period"], condition=models.Q(kind="reset"), name="points_entry_reset_once"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(state="effective", sequence__isnull=False, effective_at__isnull=False)
                    | (~models.Q(state="effective") & models.Q(sequence__isnull=True))
                ),
                name="points_entry_effective_chained",
            ),
            models.CheckConstraint(condition=~models.Q(points=0), name="points_entry_not_zero"),
        ]
        indexes = [
            models.Index(fields=["household", "state"], name="points_entry_household_state"),
            models.Index(fields=["village", "state", "publicity_until"], name="points_entry_publicity"),
            models.Index(fields=["county"], name="points_entry_county"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.household_id} {self.points:+d} {self.state}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and Entry.objects.filter(pk=self.pk, state=self.State.EFFECTIVE).exists():
            raise ImmutableEntryError(f"entry {self.pk} is effective and cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableEntryError("ledger entries are never deleted")

    @property
    def county_code(self) -> str:
        return self.village.code[:6] if self.village_id else ""


class EntryEvent(WorkflowEvent):
    """One change of an entry's state (`hemei.points.workflow`): history rows. Posting writes
    them in bulk beside its raw-SQL statements (`hemei.points.posting`)."""

    entry = models.ForeignKey(Entry, verbose_name=_("entry"), on_delete=models.PROTECT, related_name="events")

    class Meta:
        verbose_name = _("points entry event")
        verbose_name_plural = _("points entry events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.from_state} → {self.to_state}"


class Objection(models.Model):
    """异议 raised by a villager during publicity; decided by the supervision committee."""

    class State(models.TextChoices):
        OPEN = "open", _("open")
        UPHELD = "upheld", _("upheld")
        DISMISSED = "dismissed", _("dismissed")

    entry = models.ForeignKey(Entry, verbose_name=_("entry"), on_delete=models.PROTECT, related_name="objections")
    resident = models.ForeignKey(Resident, verbose_name=_("raised by"), on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=500)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-raised_at", "-id"]

    def __str__(self) -> str:
        return f"objection {self.pk} on {self.entry_id}"

    @property
    def county_code(self) -> str:
        return self.entry.county_code


class ObjectionEvent(WorkflowEvent):
    """The decision on an objection (`hemei.points.workflow.OBJECTION`)."""

    objection = models.ForeignKey(Objection, verbose_name=_("objection"), on_delete=models.PROTECT,
                                  related_name="events")

    class Meta:
        verbose_name = _("objection event")
        verbose_name_plural = _("objection events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.objection_id} {self.from_state} → {self.to_state}"


class Reward(models.Model):
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="rewards")
    name = models.CharField(_("name"), max_length=100)
    photo = models.ImageField(_("photo"), upload_to="rewards/%Y/", blank=True)
    price = models.PositiveIntegerField(_("price in points"))
    stock = models.IntegerField(_("stock"), default=0)
    limit_per_period = models.PositiveIntegerField(
        _("limit per household per period"),
        null=True,
        blank=True,
        help_text=_("Blank for no limit; the period is the rule set's redemption period."),
    )
    own_product = models.BooleanField(_("villagers' own product"), default=False)  # 产品展销兑物
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["village", "price", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="points_reward_stock_not_negative"),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="points_reward_price_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def county_code(self) -> str:
        return self.village.code[:6] if self.village_id else ""


class Redemption(models.Model):
    class State(models.TextChoices):
        RESERVED = "reserved", _("reserved")
        COLLECTED = "collected", _("collected")
        CANCELLED = "cancelled", _("cancelled")

    class Channel(models.TextChoices):
        COUNTER = "counter", _("at the counter")
        PHONE = "phone", _("reserved on the phone")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="redemptions"
    )
    reward = models.ForeignKey(Reward, verbose_name=_("reward"), on_delete=models.PROTECT, related_name="redemptions")
    quantity = models.PositiveIntegerField(_("quantity"))
    points = models.PositiveIntegerField(_("points"))
    period = models.CharField(_("redemption period"), max_length=7, db_index=True)  # "2026Q4"
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="redemption")
    cancel_entry = models.OneToOneField(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    collected_at = models.DateTimeField(_("collected"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["household", "reward", "period"], name="points_redemption_limit")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.reward_id} x{self.quantity}"

    @property
    def county_code(self) -> str:
        return self.village.code[:6] if self.village_id else ""


class RedemptionEvent(WorkflowEvent):
    """A reservation handed out or cancelled (`hemei.points.workflow.REDEMPTION`)."""

    redemption = models.ForeignKey(Redemption, verbose_name=_("redemption"), on_delete=models.PROTECT,
                                   related_name="events")

    class Meta:
        verbose_name = _("redemption event")
        verbose_name_plural = _("redemption events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.redemption_id} {self.from_state} → {self.to_state}"


class StockMovement(models.Model):
    """Every change of a reward's stock; `Reward.stock` equals their sum (`hemei verify`)."""

    class Kind(models.TextChoices):
        RESTOCK = "restock", _("restock")
        REDEMPTION = "redemption", _("redemption")
        CANCELLATION = "cancellation", _("cancellation")

    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    quantity = models.IntegerField(_("quantity"))
    redemption = models.ForeignKey(Redemption, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.reward_id} {self.quantity:+d}"
