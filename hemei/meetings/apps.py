from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "hemei.meetings"
    label = "meetings"
    verbose_name = _("Meetings")

    def ready(self) -> None:
        # Registers the board section of decided items (hemei.disclosure.board).
        from hemei.meetings import board  # noqa: F401
