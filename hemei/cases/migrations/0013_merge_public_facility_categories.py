# Joins the 公共设施 categories (issue 15) with the location, art. 31 and eldercare branch.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0011_public_facility_categories"),
        ("cases", "0012_caseevent_kinds_ordered_and_arrived"),
    ]

    operations = []
