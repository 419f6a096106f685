from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CourtyardConfig(AppConfig):
    name = "hemei.courtyard"
    label = "courtyard"
    verbose_name = _("Courtyard reviews")

    def ready(self) -> None:
        # Registers the courtyard section of the public village board and the verify invariant.
        from hemei.courtyard import board, checks, household_file  # noqa: F401
