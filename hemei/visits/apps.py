from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "hemei.visits"
    label = "visits"
    verbose_name = _("Visits and monitoring")

    def ready(self) -> None:
        from hemei.visits import sweep, todo  # noqa: F401  (todo: its 待办 sources)  (registers the monitoring sweeper)
