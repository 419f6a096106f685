from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "hemei.points"
    label = "points"
    verbose_name = _("Points")

    def ready(self) -> None:
        # Registers the publicity and reset sweepers, the `hemei verify` invariants, the village
        # board's section and chain head, and the meetings hook.
        from hemei.points import checks, public, sweep  # noqa: F401
        from hemei.points.rules import register_meeting_hook

        register_meeting_hook()
