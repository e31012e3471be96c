# ruff: noqa: RUF012  (Django migration class attributes)
"""PostgreSQL row-level security on the twin's jobs and the park's twin settings (nothing on other databases).

The rules of ``companies/0003_row_level_security`` (the same settings: ``app.system``,
``app.admin``, ``app.editable``, ``app.parks_run``), for these tables:

- a job holds every company's share of its candidates (money from their private costs): it is
  read and written by server code (the worker, the cache that copies a finished result), admins,
  the members of the company it was asked for, and its park's facilitators; no one else, not even
  another company of the park, reads its row;
- the park's twin settings (a Ray cluster's address) are read by the park's companies (their jobs
  run there) and written by its facilitators.

FORCE: the tables' owner, the role the workbench connects as, is held to the policies too.
"""

from django.db import migrations

SETTING = "coalesce(current_setting('{0}', true), '')"
IDS = "string_to_array(nullif(" + SETTING + ", ''), ',')::bigint[]"
SYSTEM = f"({SETTING.format('app.system')} = 'on' OR {SETTING.format('app.admin')} = 'on')"
RUNS = f"park_id = ANY({IDS.format('app.parks_run')})"
JOB = f"({SYSTEM} OR company_id = ANY({IDS.format('app.editable')}) OR {RUNS})"
SETTINGS_READ = (f"({SYSTEM} OR {RUNS} OR park_id IN (SELECT park_id FROM companies_company "
                 f"WHERE id = ANY({IDS.format('app.editable')})))")
SETTINGS_WRITE = f"({SYSTEM} OR {RUNS})"
TABLES = (("simulations_job", JOB, JOB), ("simulations_twinsettings", SETTINGS_READ, SETTINGS_WRITE))

FORWARD = []
for table, read, write in TABLES:
    FORWARD += [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY workbench_read ON {table} FOR SELECT USING {read}",
        f"CREATE POLICY workbench_insert ON {table} FOR INSERT WITH CHECK {write}",
        f"CREATE POLICY workbench_update ON {table} FOR UPDATE USING {write} WITH CHECK {write}",
        f"CREATE POLICY workbench_delete ON {table} FOR DELETE USING {write}",
    ]
BACKWARD = [s for table, _r, _w in TABLES for s in (
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
    dependencies = [("simulations", "0001_initial"), ("companies", "0003_row_level_security")]
    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
