# ruff: noqa: RUF012  (written as Django makemigrations writes it)
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("companies", "0003_row_level_security"),
    ]

    operations = [
        migrations.AddField(
            model_name="company",
            name="named_to_partners",
            field=models.BooleanField(default=False, verbose_name="show our name to possible partners"),
        ),
    ]
