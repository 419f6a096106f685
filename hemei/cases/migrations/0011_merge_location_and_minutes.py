# Joins two branches of work: Open311 location and art. 31 complaints (0009/0010) and the
# eldercare minute deadlines (0009_accept_minutes).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_accept_minutes"),
        ("cases", "0010_unpublished_complaint_category"),
    ]

    operations = []
