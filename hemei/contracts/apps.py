from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "hemei.contracts"
    label = "contracts"
    verbose_name = _("Contracts and land trusteeship")

    def ready(self) -> None:
        # The reminders sweeper, the public board section, the `hemei verify` checks and the
        # meetings decision hook.
        from hemei.contracts import board, checks, household_file, sweep  # noqa: F401
        from hemei.contracts.services import register_meeting_hook

        register_meeting_hook()
