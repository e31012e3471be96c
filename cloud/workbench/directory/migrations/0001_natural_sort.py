# ruff: noqa: RUF012  (Django migration class attributes)
"""PostgreSQL's ICU collation for company names in natural order (see directory/ordering.py).

SQLite needs nothing stored: its ``natural_key`` function is registered on each connection.
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE COLLATION IF NOT EXISTS natural_sort (provider = icu, locale = 'und-u-kn-true')")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP COLLATION IF EXISTS natural_sort")


class Migration(migrations.Migration):
    dependencies = []
    operations = [migrations.RunPython(create, drop)]
