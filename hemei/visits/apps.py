from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "hemei.visits"
    label = "visits"
    verbose_name = _("Visits and monitoring")

    def ready(self) -> None:
        from hemei.visits import household_file, sweep, todo  # noqa: F401  (its sweeper, 待办 and file sections)  (registers the monitoring sweeper)
