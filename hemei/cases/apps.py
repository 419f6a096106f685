from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "hemei.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from hemei.cases import sweep, todo  # noqa: F401  (todo: its 待办 sources)  (registers the cases sweeper)
