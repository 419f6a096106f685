"""Devices (设备) and their alarms (告警): the register, the accepted messages, the refused
ones (dead letters), the alarm rules and the alarms themselves.

Every write goes through `hemei.devices.services` (the register, acknowledgements) and
`hemei.devices.ingest` (messages, alarms); alarm states change only through the workflow in
`hemei.devices.workflow`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hemei.core import sweeps
from hemei.core.models import WorkflowEvent
from hemei.regions.models import Region, Resident


class Kind(models.TextChoices):
    CALL_BOX = "call_box", _("one-key call box")
    CAMERA = "camera", _("camera")
    SMOKE = "smoke", _("smoke detector")
    WATER_LEVEL = "water_level", _("water level sensor")
    TEMP_HUMIDITY = "temp_humidity", _("temperature and humidity sensor")
    HEALTH_BAND = "health_band", _("health band")
    DOOR = "door", _("door sensor")


class Severity(models.TextChoices):
    CRITICAL = "critical", _("critical")
    MAJOR = "major", _("major")
    MINOR = "minor", _("minor")
    WARNING = "warning", _("warning")


SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.MAJOR: 1, Severity.MINOR: 2, Severity.WARNING: 3}


class Device(models.Model):
    """One registered device at a village or grid. Its secret is shown once when it is
    registered (or rotated) and stored only as a Mosquitto PBKDF2-SHA512 hash (the broker's
    password file) and as the derived webhook signing key (see docs/devices.md)."""

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="devices")
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="devices", help_text=_("The elder a call box or a health band belongs to."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    code = models.CharField(_("device code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # Picks the threshold rules of its kind: "scorpion_house" for a scorpion farm's sensors.
    profile = models.CharField(_("profile"), max_length=40, blank=True)
    active = models.BooleanField(_("active"), default=True)
    secret_hash = models.CharField(_("secret (hashed)"), max_length=200)
    signing_key = models.CharField(_("webhook signing key"), max_length=64)
    online = models.BooleanField(_("online"), default=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered"), default=timezone.now)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["region", "kind"], name="devices_device_region_kind"),
            # The offline sweep reads only online devices by last contact.
            models.Index(fields=["online", "last_seen_at"], name="devices_device_online_seen"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def county_code(self) -> str:
        return self.region.code[:6]


class DeviceMessage(models.Model):
    """One accepted message (the device's own id is unique per device: a replay is refused)."""

    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", db_index=False)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="messages")
    message_id = models.CharField(max_length=64)
    type = models.CharField(max_length=20)
    at = models.DateTimeField()  # the device's time
    received_at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=10)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("device message")
        verbose_name_plural = _("device messages")
        constraints = [models.UniqueConstraint(fields=["device", "message_id"], name="devices_message_once")]
        indexes = [models.Index(fields=["device", "-received_at"], name="devices_message_recent")]

    def __str__(self) -> str:
        return f"{self.device_id}:{self.message_id}"


class DeadLetter(models.Model):
    """A refused message, kept as it came so that an administrator can see why."""

    class Reason(models.TextChoices):
        MALFORMED = "malformed", _("malformed payload")
        UNKNOWN_DEVICE = "unknown_device", _("unknown device")
        INACTIVE = "inactive", _("device inactive")
        BAD_CREDENTIALS = "bad_credentials", _("wrong credentials")
        TOPIC_MISMATCH = "topic_mismatch", _("topic does not match the device")
        REPLAY = "replay", _("replayed message id")
        STALE = "stale", _("timestamp too far in the past")
        FUTURE = "future", _("timestamp in the future")
        FLOOD = "flood", _("too many messages (rate limit)")
        HANDLER_ERROR = "handler_error", _("handler failed")

    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    channel = models.CharField(_("channel"), max_length=10)
    topic = models.CharField(_("topic or path"), max_length=200, blank=True)
    device_code = models.CharField(_("device code"), max_length=64, blank=True)
    device = models.ForeignKey(Device, verbose_name=_("device"), null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, db_index=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    payload = models.TextField(_("payload"), blank=True)  # as received, cut to 4 KB

    class Meta:
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.reason} {self.device_code}"


class AlarmRule(models.Model):
    """What an alarm code of a device kind means: its severity, whether it opens a case (of
    which category, at which tier). With a `metric` it is also a threshold: a reading outside
    [min_value, max_value] raises the rule's code, a reading back inside clears it.
    `county` blank: the default every county uses; `profile` blank: every device of the kind."""

    county = models.ForeignKey(Region, verbose_name=_("county"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    kind = models.CharField(_("device kind"), max_length=20, choices=Kind.choices)
    profile = models.CharField(_("profile"), max_length=40, blank=True)
    code = models.CharField(_("alarm code"), max_length=40)
    text = models.CharField(_("text"), max_length=200)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    metric = models.CharField(_("metric"), max_length=40, blank=True)
    min_value = models.FloatField(_("lowest good value"), null=True, blank=True)
    max_value = models.FloatField(_("highest good value"), null=True, blank=True)
    opens_case = models.BooleanField(_("opens a case"), default=False)
    category = models.ForeignKey("cases.Category", verbose_name=_("case category"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    tier = models.CharField(_("starting tier"), max_length=10, choices=sweeps.Tier.choices, default=sweeps.Tier.VILLAGE)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("alarm rule")
        verbose_name_plural = _("alarm rules")
        ordering = ["kind", "profile", "code"]
        constraints = [
            models.UniqueConstraint(fields=["county", "kind", "profile", "code"], name="devices_rule_once"),
            models.UniqueConstraint(fields=["kind", "profile", "code"], condition=models.Q(county__isnull=True),
                                    name="devices_rule_default_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.profile or '*'}/{self.code}"


class Alarm(models.Model):
    """One condition of one device: repeated events fold into it (`count`, `last_at`); a clear
    followed by a new raise within the flapping window re-opens it instead of a new alarm."""

    class State(models.TextChoices):
        ACTIVE = "active", _("active")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        CLEARED = "cleared", _("cleared")

    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="alarms")
    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.PROTECT, related_name="alarms")
    code = models.CharField(_("alarm code"), max_length=40)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    text = models.CharField(_("text"), max_length=200)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.ACTIVE)
    count = models.PositiveIntegerField(_("events"), default=1)
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    last_at = models.DateTimeField(_("last seen"), default=timezone.now)
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)
    reraised = models.PositiveIntegerField(_("re-raised"), default=0)
    flapping = models.BooleanField(_("flapping"), default=False)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("acknowledged by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    case = models.ForeignKey("cases.Case", verbose_name=_("case"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-last_at", "-id"]
        constraints = [
            # One open alarm per device and code: repeated events fold into it.
            models.UniqueConstraint(fields=["device", "code"], condition=~models.Q(state="cleared"),
                                    name="devices_alarm_one_open"),
        ]
        indexes = [
            models.Index(fields=["region", "-last_at", "-id"], name="devices_alarm_region_last"),
            models.Index(fields=["county", "-last_at", "-id"], name="devices_alarm_county_last"),
            models.Index(fields=["device", "code", "-cleared_at"], name="devices_alarm_device_code"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.code} ({self.state})"

    @property
    def county_code(self) -> str:
        return self.region.code[:6]

    @property
    def is_open(self) -> bool:
        return self.state != self.State.CLEARED


class AlarmEvent(WorkflowEvent):
    """The history of an alarm's states (raised, acknowledged, cleared, re-raised)."""

    alarm = models.ForeignKey(Alarm, on_delete=models.PROTECT, related_name="events")

    class Meta(WorkflowEvent.Meta):
        verbose_name = _("alarm event")
        verbose_name_plural = _("alarm events")
