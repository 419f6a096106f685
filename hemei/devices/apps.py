from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    name = "hemei.devices"
    verbose_name = _("devices and alarms")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hemei.devices import access, sweep, workflow  # noqa: F401  (registrations)
