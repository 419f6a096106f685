"""Who lives where, and who serves where.

Every row that belongs to a place carries `region` (the lowest region it belongs to, a grid
for households and residents) and `county` (the tenant key): scoping is a filter on data,
not a rule in a view.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node

from hemei.core.masking import mask_id_number, mask_phone
from hemei.core.models import WorkflowEvent


class Level(models.TextChoices):
    PROVINCE = "province", _("province")
    CITY = "city", _("city")
    COUNTY = "county", _("county")
    TOWNSHIP = "township", _("township")
    VILLAGE = "village", _("village")
    GRID = "grid", _("grid")


LEVEL_ORDER = [Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE, Level.GRID]
# Statistical code length per level: 2 / 4 / 6 / 9 / 12 digits, grids append 3 more.
CODE_LENGTH = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.COUNTY: 6,
    Level.TOWNSHIP: 9,
    Level.VILLAGE: 12,
    Level.GRID: 15,
}


class Region(MP_Node):
    """County → township → village → grid (province and city above where wanted).

    The materialized path makes "this region and below" a prefix query on `path`.
    A merged or renamed village keeps its row with `valid_to` set, so history still points
    at the place as it was.
    """

    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    code = models.CharField(_("code"), max_length=15, unique=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    node_order_by: ClassVar[list[str]] = ["code"]

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def county_code(self) -> str:
        return self.code[:6]

    def county_ancestor(self) -> Region | None:
        """The county this region lies in (itself for a county): ancestors are path prefixes,
        so one query."""
        if self.level == Level.COUNTY:
            return self
        step = Region.steplen
        prefixes = [self.path[:i] for i in range(step, len(self.path), step)]
        return Region.objects.filter(path__in=prefixes, level=Level.COUNTY).first()

    @property
    def is_current(self) -> bool:
        return self.valid_to is None or self.valid_to >= dt.date.today()


class Tag(models.Model):
    """Editable list of household and resident types (脱贫户, 监测户, 低保户 …)."""

    class AppliesTo(models.TextChoices):
        HOUSEHOLD = "household", _("household")
        RESIDENT = "resident", _("resident")
        BOTH = "both", _("household and resident")

    name = models.CharField(_("name"), max_length=30, unique=True)
    applies_to = models.CharField(
        _("applies to"), max_length=10, choices=AppliesTo.choices, default=AppliesTo.BOTH
    )
    sensitive = models.BooleanField(
        _("sensitive"), default=False, help_text=_("Never shown on public pages.")
    )
    active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["sort", "name"]

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    county = models.ForeignKey(
        Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="households"
    )
    village = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField(_("household number"), max_length=30)
    head = models.ForeignKey(
        "Resident",
        verbose_name=_("head of household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="households")
    lives_in_village = models.BooleanField(_("lives in the village"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.UniqueConstraint(fields=["village", "number"], name="household_number_per_village")
        ]
        indexes = [models.Index(fields=["region", "number"]), models.Index(fields=["county"])]

    def __str__(self) -> str:
        return str(self.number)

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""


class Resident(models.Model):
    class Sex(models.TextChoices):
        MALE = "M", _("male")
        FEMALE = "F", _("female")

    class Relation(models.TextChoices):
        HEAD = "head", _("head of household")
        SPOUSE = "spouse", _("spouse")
        CHILD = "child", _("child")
        PARENT = "parent", _("parent")
        GRANDCHILD = "grandchild", _("grandchild")
        GRANDPARENT = "grandparent", _("grandparent")
        SIBLING = "sibling", _("sibling")
        CHILD_IN_LAW = "child_in_law", _("son- or daughter-in-law")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        LIVING = "living", _("living here")
        MOVED_OUT = "moved_out", _("moved out")
        DECEASED = "deceased", _("deceased")

    county = models.ForeignKey(
        Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="residents"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="residents"
    )
    name = models.CharField(_("name"), max_length=50)
    name_initials = models.CharField(_("pinyin initials"), max_length=50, db_index=True)
    id_number = models.CharField(_("ID number"), max_length=18, unique=True)
    id_tail = models.CharField(_("ID number tail"), max_length=4, db_index=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    phone_tail = models.CharField(_("phone tail"), max_length=4, blank=True, db_index=True)
    relation = models.CharField(
        _("relation to head"), max_length=20, choices=Relation.choices, default=Relation.OTHER
    )
    is_party_member = models.BooleanField(_("party member"), default=False)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="residents")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.LIVING
    )
    status_date = models.DateField(_("status since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        permissions = [("reveal_personal_data", _("Can reveal full ID numbers and phones"))]
        indexes = [models.Index(fields=["household", "relation"])]

    def __str__(self) -> str:
        return self.name

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""

    @property
    def id_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def age(self) -> int:
        today = dt.date.today()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


class ResidentEvent(WorkflowEvent):
    """A change of a resident's status (`regions.resident` workflow): moved out, deceased, or
    living here again; `data["on"]` is the date it took effect (the resident's `status_date`)."""

    resident = models.ForeignKey(Resident, verbose_name=_("resident"), on_delete=models.PROTECT,
                                 related_name="events")

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("resident status change")
        verbose_name_plural = _("resident status changes")

    def __str__(self) -> str:
        return f"{self.resident_id} {self.kind}"


class MoveRecord(models.Model):
    """A resident or a whole household moved: history is rows, never overwritten."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="moves"
    )
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="moves",
    )
    from_household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    to_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    moved_on = models.DateField(_("moved on"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("move")
        verbose_name_plural = _("moves")
        ordering = ["-moved_on", "-id"]

    def __str__(self) -> str:
        return f"{self.moved_on} {self.from_region_id} → {self.to_region_id}"


class Role(models.TextChoices):
    VILLAGER = "villager", _("villager")
    GRID_WORKER = "grid_worker", _("grid worker")
    GRID_LEADER = "grid_leader", _("grid leader")
    SECRETARY = "secretary", _("village party secretary")
    DIRECTOR = "director", _("village committee director")
    COMMITTEE = "committee", _("village committee member")
    SUPERVISION = "supervision", _("supervision committee member")
    ACCOUNTANT = "accountant", _("village accountant")
    SHOP_KEEPER = "shop_keeper", _("points shop keeper")
    CARE_WORKER = "care_worker", _("care worker")
    TOWNSHIP_STAFF = "township_staff", _("township staff")
    COUNTY_DISPATCHER = "county_dispatcher", _("county dispatcher")
    COUNTY_ADMIN = "county_admin", _("county administrator")
    # Read-only staff above the counties: they compare their counties' dashboards.
    CITY_STAFF = "city_staff", _("city staff")
    PROVINCE_STAFF = "province_staff", _("province staff")


# Roles that may change households and residents in their subtree.
WRITE_ROLES = frozenset(
    {
        Role.GRID_WORKER,
        Role.GRID_LEADER,
        Role.SECRETARY,
        Role.DIRECTOR,
        Role.COMMITTEE,
        Role.TOWNSHIP_STAFF,
        Role.COUNTY_ADMIN,
    }
)


class PostQuerySet(models.QuerySet["Post"]):
    def current(self, on: dt.date | None = None) -> PostQuerySet:
        on = on or dt.date.today()
        return self.filter(models.Q(ended_on__isnull=True) | models.Q(ended_on__gte=on))


class Post(models.Model):
    """A role held by a user at a region. One user may hold several posts."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="posts"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="posts"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="posts",
        help_text=_("For villagers: the resident this account belongs to."),
    )
    started_on = models.DateField(_("started on"), default=dt.date.today)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="villager") | models.Q(resident__isnull=False),
                name="villager_post_has_resident",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} @ {self.region.name}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6]


class HouseholdLink(models.Model):
    """联户 ("一网四联"): a cadre or party member looks after a household."""

    class Kind(models.TextChoices):
        CADRE = "cadre", _("cadre links household")
        PARTY_MEMBER = "party_member", _("party member links household")

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="links"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    post = models.ForeignKey(
        Post, verbose_name=_("cadre post"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="linked_households",
    )
    resident = models.ForeignKey(
        Resident, verbose_name=_("party member"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="linked_households",
    )
    since = models.DateField(_("since"), default=dt.date.today)

    class Meta:
        verbose_name = _("household link")
        verbose_name_plural = _("household links")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(post__isnull=False) | models.Q(resident__isnull=False),
                name="household_link_has_someone",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.household_id}"


class RosterImport(models.Model):
    """One uploaded roster file and the background import that checks and applies it.

    The import itself is all-or-nothing (`hemei.regions.roster.roster_import`); this row
    only tracks the job for the upload page: who uploaded what into which region, how far
    the worker has got, and the row-by-row report when it failed. A user sees only their own.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT,
        related_name="roster_imports",
    )
    county = models.ForeignKey(
        Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="roster_imports"
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=255)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    # None while the number of rows is not yet known (the bar is then indeterminate).
    percent = models.PositiveSmallIntegerField(_("progress"), null=True, blank=True)
    created_households = models.PositiveIntegerField(_("households created"), default=0)
    created_residents = models.PositiveIntegerField(_("residents created"), default=0)
    updated_residents = models.PositiveIntegerField(_("residents updated"), default=0)
    unchanged = models.PositiveIntegerField(_("residents unchanged"), default=0)
    report = models.JSONField(_("report"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name or self.file.name} → {self.region.code}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6] if self.region_id else ""

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}
