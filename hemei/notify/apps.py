from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "hemei.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Register the sweepers: case reminders (they belong to cases but need this app's
        # Reminder table, so they register once both apps are loaded) and delivery retries.
        from hemei.cases import notifications  # noqa: F401
        from hemei.notify import services  # noqa: F401
