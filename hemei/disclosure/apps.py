from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    name = "hemei.disclosure"
    label = "disclosure"
    verbose_name = _("Disclosure and finance")

    def ready(self) -> None:
        # Register the schedule sweeper (hemei.core.sweeps), the chain checks (hemei verify)
        # and this app's chain head on the public board.
        from hemei.disclosure import board, integrity, sweep  # noqa: F401
