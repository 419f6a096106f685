from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StarsConfig(AppConfig):
    name = "hemei.stars"
    label = "stars"
    verbose_name = _("Star-rated households")

    def ready(self) -> None:
        # Registers the `hemei verify` invariant and the public board section.
        from hemei.stars import board, checks, household_file  # noqa: F401
