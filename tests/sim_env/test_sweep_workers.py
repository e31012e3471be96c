"""A sweep's rows shared between local worker processes: the numbers of one batch, bit for bit, and a
worker's failure raised with its candidates named (never a partial result)."""

from __future__ import annotations

import pytest

from sim_env.graph import sweep_workers
from sim_env.graph.sweep import Candidate, SweepWorkerError, simulate
from tests.sim_env.test_graph_sweep import EAST, PARK, WEST


def _smaller(c: Candidate, capacity: str) -> Candidate:
    cid = f"{c.id}_{capacity.split()[0]}"
    return Candidate(cid, [{**c.exchanges[0], "id": cid, "capacity": capacity}])


CANDS = [EAST, WEST, _smaller(EAST, "200 kW"), _smaller(WEST, "100 kW")]


def test_two_workers_give_the_numbers_of_one_batch():
    base1, one, t1 = simulate(PARK, CANDS, hours=24, workers=1)
    base2, two, t2 = simulate(PARK, CANDS, hours=24, workers=2)
    assert (t1["workers"], t2["workers"], t2["tasks"]) == (1, 2, 2)  # rows 0-1 and 2-4, one process each
    assert base2.objective == base1.objective and base2.totals == base1.totals
    assert [b.id for b in two] == [c.id for c in CANDS]
    for a, b in zip(one, two, strict=True):
        assert (b.saved, b.cost_saved, b.co2_avoided_t, b.water_saved_m3, b.residues_diverted_t, b.efficiency_gain) == \
               (a.saved, a.cost_saved, a.co2_avoided_t, a.water_saved_m3, a.residues_diverted_t, a.efficiency_gain)
        assert b.carried == a.carried and b.totals == a.totals
    # by hand (as test_graph_sweep): the 200 kW pipe to east saves 200 kWh/h × 0.106 EUR/kWh over 24 h
    assert two[2].saved == pytest.approx(200 * 24 * 0.106, rel=1e-9)


def test_a_failed_worker_names_its_candidates_and_nothing_is_returned(tmp_path, monkeypatch):
    # the workers inherit a kernel cache they cannot write (a file where its folder should be): each fails
    # making its generated step function, before any step; this process never builds one
    blocked = tmp_path / "not_a_folder"
    blocked.write_text("")
    monkeypatch.setenv("AISYM_KERNEL_CACHE", str(blocked / "kernels"))
    with pytest.raises(SweepWorkerError) as err:
        simulate(PARK, CANDS, hours=24, workers=2, specialise="tables")
    msg = str(err.value)
    assert msg.startswith("sweep worker failed on the park as it is … pipe_east (rows 0–1 of 5): ")
    assert "not_a_folder" in msg and "\n" not in msg


def test_the_default_stays_in_this_process_unless_the_sweep_pays_for_a_worker(monkeypatch):
    monkeypatch.setattr(sweep_workers, "usable_cores", lambda: 2)
    assert sweep_workers.workers_for(305, 24.0, None) == 1  # a day of 305 rows: 7,320 row-hours
    assert sweep_workers.workers_for(305, 8760.0, None) == 2  # the Kalundborg-like sweep's year
    assert sweep_workers.workers_for(1, 8760.0, None) == 1  # never more workers than rows
    assert sweep_workers.workers_for(3, 24.0, 8) == 3  # asked for: kept, up to one per row
    with pytest.raises(ValueError, match="workers: at least 1"):
        sweep_workers.workers_for(3, 24.0, 0)


def test_match_simulate_passes_workers_on_and_refuses_them_without_a_local_batch(monkeypatch):
    from typer.testing import CliRunner

    from aisym.cli import app
    from sim_env.graph import sweep

    asked, real = [], sweep.run_batch

    def spy(*args, workers=None, **kw):  # the batch is run here all the same: the count is what is checked
        asked.append(workers)
        return real(*args, workers=1, **kw)

    monkeypatch.setattr(sweep, "run_batch", spy)
    park = "aisym/parks/kraakoya.yaml"
    res = CliRunner().invoke(app, ["match", park, "--simulate", "--top", "2", "--hours", "24", "--workers", "2",
                                   "--format", "json"])
    assert res.exit_code == 0, res.output
    assert asked and set(asked) == {2}
    res = CliRunner().invoke(app, ["match", park, "--workers", "2"])
    assert res.exit_code == 2 and "--workers, --set and --report go with --simulate" in res.output
    res = CliRunner().invoke(app, ["match", park, "--simulate", "--ray", "127.0.0.1:1", "--workers", "2"])
    assert res.exit_code == 2 and "--workers shares the batch between local processes, --ray" in res.output


def test_a_process_that_runs_chunks_of_two_sweeps_runs_each_on_its_own_park():
    # a Ray worker is reused across sweeps: its compiled park is known by the sweep's content, not kept blindly
    parks = [sweep_workers.SweepPark.of(PARK, cands, "park", 24.0, 0, None) for cands in ([EAST], [WEST, EAST])]
    rows = [sweep_workers._rows_task(p, sweep_workers._compiled(p)[1])[0] for p in parks]
    _, alone, _ = simulate(PARK, [WEST, EAST], hours=24, workers=1)
    assert [len(r) for r in rows] == [2, 3]
    assert [rows[1][0].objective - r.objective for r in rows[1][1:]] == [b.saved for b in alone]
