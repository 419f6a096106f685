from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "hemei.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from hemei.cases import household_file, sweep, todo  # noqa: F401  (its sweepers, 待办 and file section)
