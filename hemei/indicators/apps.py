from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "hemei.indicators"
    verbose_name = "Indicators"

    def ready(self) -> None:
        # Registries: scope, the report workflow, the rollup sweeper and its verify check.
        from hemei.indicators import access, sweep, workflow  # noqa: F401
