from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoliciesConfig(AppConfig):
    """Policy matching (政策明白卡, seed 002): which policies each household can get, and why."""

    name = "hemei.policies"
    label = "policies"
    verbose_name = _("Policy matching")

    def ready(self) -> None:
        from hemei.policies import household_file  # noqa: F401  (the household file's section)
