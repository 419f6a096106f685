from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "hemei.care"
    label = "care"
    verbose_name = _("Elderly care")

    def ready(self) -> None:
        from hemei.care import sweep  # noqa: F401  (registers the care sweepers)
        from hemei.care.handlers import register

        register()  # call boxes and health bands (hemei.devices.events)
