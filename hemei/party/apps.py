from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartyConfig(AppConfig):
    name = "hemei.party"
    label = "party"
    verbose_name = _("Party building")

    def ready(self) -> None:
        from hemei.party import access, sweep  # noqa: F401  (registers the scoped models and the sweeper)
