"""PostgreSQL's row-level security on the twin's jobs (migration ``simulations/0002_row_level_security``).

A job's result holds every company's share, from their private costs: raw SQL run with another
company's viewer settings reads and changes none of it. The server's own readers (the cache that
answers one company's test with another's, the opportunities page's simulated figures, the worker
process) still see every job. It runs in test_postgres.py's PostgreSQL run; on SQLite it skips.
"""

from __future__ import annotations

import pytest
from django.db import ProgrammingError, connection, transaction

from cloud.workbench import tenancy

from .tenancy_rules_simulations import _fish_job

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="row-level security is PostgreSQL's (run by test_postgres.py)")
KEY = "fish.sludge>biogas.feedstock:direct"


def _as(world, role):
    tenancy.set_db_context(tenancy.db_context(tenancy.viewer_of(world.users[role]) if role else tenancy.ANONYMOUS))


def _rows(sql: str, params=()) -> int:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def _done_job(world) -> int:
    from cloud.workbench.simulations.models import Job

    pk = _fish_job(world)
    Job.objects.filter(pk=pk).update(state=Job.DONE, candidate_ids={KEY: "c1"}, result={
        "currency": "NOK", "ranking": [{"id": "c1", "saved_per_year": 1.0}],
        "companies": {"fish": [{"candidate": "c1", "rule": "cost sharing", "gain_per_year": 45678.9}]}})
    return pk


def test_only_the_company_its_facilitators_and_admins_read_or_write_a_job(world):
    job = _done_job(world)
    read, write = "SELECT 1 FROM simulations_job WHERE id = %s", "UPDATE simulations_job SET hits = 7 WHERE id = %s"
    seen = {}
    with transaction.atomic():
        for role in ("member_b", "member_a2", None, "member_a", "facilitator_a", "admin"):
            _as(world, role)
            seen[role] = (_rows(read, [job]), _rows(write, [job]), _rows("DELETE FROM simulations_job WHERE id = %s "
                                                                        "AND false", [job]))
    assert {r: s[:2] for r, s in seen.items()} == {
        "member_b": (0, 0), "member_a2": (0, 0), None: (0, 0),  # another park, a neighbour, no viewer: nothing
        "member_a": (1, 1), "facilitator_a": (1, 1), "admin": (1, 1)}


def test_a_job_for_another_company_cannot_be_inserted(world):
    with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
        _as(world, "member_a2")
        _rows("INSERT INTO simulations_job (park_id, version, keys, signature, set_size, hours, company_id, "
              "ray_address, state, progress_text, progress, created, error, candidate_ids, hits, attempts, host) "
              "VALUES (%s, '0', '[]', 'x', 0, 1, %s, '', 'queued', '', 0, now(), '', '{}', 0, 0, '')",
              [world.park_a.pk, world.fish.pk])


def test_the_servers_readers_still_see_every_companys_job(world):
    from cloud.workbench.simulations import store
    from cloud.workbench.simulations.worker import as_server

    _done_job(world)
    with transaction.atomic():
        _as(world, "member_a2")  # the neighbour's page: the fish farm's test gives the figures, its share is not read
        found = store.candidate_result(world.park_a, "0" * 16, KEY)
        assert found is not None and found["saved_per_year"] == 1.0
        assert _rows("SELECT 1 FROM simulations_job") == 0  # and its own SQL still reads none of it
        as_server(None, connection)  # what the worker process does on each new connection
        assert _rows("SELECT 1 FROM simulations_job") == 1
