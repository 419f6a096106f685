from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssetsConfig(AppConfig):
    name = "hemei.assets"
    label = "assets"
    verbose_name = _("Collective assets")

    def ready(self) -> None:
        # The public board section (hemei.disclosure.board registry) and `hemei verify` checks.
        from hemei.assets import board, checks  # noqa: F401
