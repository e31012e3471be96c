# ruff: noqa: RUF012  (Django migration class attributes)
"""PostgreSQL row-level security on companies and listings (nothing on other databases).

Who may read a row: anyone signed in (``app.viewer`` set: the public tier is rows of every
park), or server code (``app.system``). Who may write one: server code, an admin, the company's
own members (``app.editable``), the facilitators of its park (``app.parks_run``). FORCE: the
tables' owner, the role the workbench connects as, is held to the policies too.
"""

from django.db import migrations

SETTING = "coalesce(current_setting('{0}', true), '')"
IDS = "string_to_array(nullif(" + SETTING + ", ''), ',')::bigint[]"
SYSTEM = f"({SETTING.format('app.system')} = 'on' OR {SETTING.format('app.admin')} = 'on')"
READ = f"({SYSTEM} OR {SETTING.format('app.viewer')} <> '')"
COMPANY_WRITE = (f"({SYSTEM} OR id = ANY({IDS.format('app.editable')}) "
                 f"OR park_id = ANY({IDS.format('app.parks_run')}))")
LISTING_WRITE = (f"({SYSTEM} OR company_id = ANY({IDS.format('app.editable')}) OR company_id IN "
                 f"(SELECT id FROM companies_company WHERE park_id = ANY({IDS.format('app.parks_run')})))")

FORWARD = []
for table, write in (("companies_company", COMPANY_WRITE), ("companies_listing", LISTING_WRITE)):
    FORWARD += [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY workbench_read ON {table} FOR SELECT USING {READ}",
        f"CREATE POLICY workbench_insert ON {table} FOR INSERT WITH CHECK {write}",
        f"CREATE POLICY workbench_update ON {table} FOR UPDATE USING {write} WITH CHECK {write}",
        f"CREATE POLICY workbench_delete ON {table} FOR DELETE USING {write}",
    ]
BACKWARD = [s for table in ("companies_company", "companies_listing") for s in (
    f"DROP POLICY IF EXISTS workbench_read ON {table}", f"DROP POLICY IF EXISTS workbench_insert ON {table}",
    f"DROP POLICY IF EXISTS workbench_update ON {table}", f"DROP POLICY IF EXISTS workbench_delete ON {table}",
    f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY", f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("companies", "0002_company_onboarding_step")]
    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
