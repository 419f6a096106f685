"""CaseEvent takes the shape of every workflow history row (`hemei.core.models.WorkflowEvent`):
from_status/to_status become from_state/to_state. The columns are renamed, so every existing
row keeps its values."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_keys_to_core_idempotency")]

    operations = [
        migrations.RenameField("caseevent", "from_status", "from_state"),
        migrations.RenameField("caseevent", "to_status", "to_state"),
        migrations.AlterField(
            "caseevent", "from_state", models.CharField(blank=True, max_length=20, verbose_name="from state")
        ),
        migrations.AlterField(
            "caseevent", "to_state", models.CharField(blank=True, max_length=20, verbose_name="to state")
        ),
    ]
