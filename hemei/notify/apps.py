from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "hemei.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Register the delivery retry sweeper.
        from hemei.notify import sweep  # noqa: F401
