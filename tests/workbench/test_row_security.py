"""PostgreSQL's row-level security holds even where the application layer is bypassed: raw SQL
run with a viewer's settings cannot write another company's rows, and no viewer reads nothing.

It runs in test_postgres.py's PostgreSQL run; on SQLite (no row security) it says so and skips.
"""

from __future__ import annotations

import pytest
from django.db import ProgrammingError, connection, transaction

from cloud.workbench import tenancy

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="row-level security is PostgreSQL's (run by test_postgres.py)")


def _as(world, role):
    values = tenancy.db_context(tenancy.viewer_of(world.users[role]) if role else tenancy.ANONYMOUS)
    tenancy.set_db_context(values)


def _rows(sql: str, params) -> int:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def test_writes_of_another_companys_rows_change_nothing(world):
    fish = world.fish.pk
    with transaction.atomic():
        _as(world, "member_b")  # another park's member
        assert _rows("UPDATE companies_listing SET cost = 0 WHERE company_id = %s", [fish]) == 0
        assert _rows("DELETE FROM companies_listing WHERE company_id = %s", [fish]) == 0
        assert _rows("UPDATE companies_company SET name = 'taken' WHERE id = %s", [fish]) == 0
        _as(world, "member_a2")  # a neighbour in the same park
        assert _rows("UPDATE companies_listing SET cost = 0 WHERE company_id = %s", [fish]) == 0
        _as(world, "member_a")  # its own member
        assert _rows("UPDATE companies_listing SET route = 'by ship' WHERE company_id = %s", [fish]) == 1
        _as(world, "facilitator_a")  # its park's facilitator, on its behalf
        assert _rows("UPDATE companies_listing SET route = 'by road' WHERE company_id = %s", [fish]) == 1


def test_an_insert_for_another_company_is_refused(world):
    with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
        _as(world, "member_b")
        _rows("INSERT INTO companies_listing (company_id, slug, direction, name, resource, ewc, material, quality, "
              "unit, frequency, months, description, route, document, version, created) VALUES "
              "(%s, 'x', 'output', 'x', 'heat', '', '', '{}', '', 'continuous', '[]', '', '', '{}', 1, now())",
              [world.fish.pk])


def test_without_a_viewer_no_row_is_read(world):
    with transaction.atomic():
        _as(world, None)
        assert _rows("SELECT 1 FROM companies_company", []) == 0
        assert _rows("SELECT 1 FROM companies_listing", []) == 0
        _as(world, "member_b")
        assert _rows("SELECT 1 FROM companies_company", []) == 3  # the public tier: every park's companies
