from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    """The village's smaller services (DOMAIN.md system 18): study-tour bookings (研学) and
    emergency response levels (应急响应)."""

    name = "hemei.services"
    label = "services"
    verbose_name = _("Village services")

    def ready(self) -> None:
        from hemei.services import checks, sweep  # noqa: F401  (the verify invariant, the check-in sweeper)
