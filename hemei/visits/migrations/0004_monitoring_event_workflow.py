"""MonitoringEvent takes the shape of every workflow history row (`WorkflowEvent`):
from_step/to_step become from_state/to_state. The columns are renamed, so every existing
row keeps its values."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("visits", "0003_monitoring_public_id_procedure_clock")]

    operations = [
        migrations.RenameField("monitoringevent", "from_step", "from_state"),
        migrations.RenameField("monitoringevent", "to_step", "to_state"),
        migrations.AlterField(
            "monitoringevent", "from_state", models.CharField(blank=True, max_length=20, verbose_name="from state")
        ),
        migrations.AlterField(
            "monitoringevent", "to_state", models.CharField(blank=True, max_length=20, verbose_name="to state")
        ),
        migrations.AlterField("monitoringevent", "kind", models.CharField(max_length=30, verbose_name="kind")),
    ]
