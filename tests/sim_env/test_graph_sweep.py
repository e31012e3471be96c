"""Candidate exchanges simulated in the compiled twin: one batch of edge masks, against the park
run directly with the edge added, the best set of candidates, and the optimum re-solved."""

from __future__ import annotations

import copy

import pytest
import yaml

from aisym.park.graph import parse_graph
from sim_env.graph.baselines import GraphRules
from sim_env.graph.compile import compile_park
from sim_env.graph.evaluate import evaluate
from sim_env.graph.sweep import Candidate, best_set, optimum_benefits, simulate, with_candidates

HEAT90 = {"resource": "heat", "temperature_c": 90}


def _greenhouse(gid: str, kw: float, price: float) -> dict:
    return {"id": gid, "name": gid, "assets": [{"id": gid, "components": [
        {"type": "demand", "id": "heat", "carrier": {"resource": "heat", "temperature_c": 60}, "profile": f"{kw} kW",
         "backup": {"cost": f"{price} EUR/MWh", "co2": "0.2 kg/kWh", "name": "gas boiler"}}]}]}


PARK = {
    "schema_version": 2,
    "park": {"id": "sweep", "name": "Two greenhouses and a foundry", "currency": "EUR", "carbon_price": "80 EUR/t"},
    "companies": [
        {"id": "foundry", "name": "Foundry", "assets": [{"id": "furnace", "components": [
            {"type": "source", "id": "waste_heat", "carrier": HEAT90, "profile": "500 kW",
             "surplus": {"cost": 0, "name": "cooling tower"}}]}]},
        _greenhouse("east", 800, 90), _greenhouse("west", 300, 60),
    ],
    "exchanges": [],
}
EAST = Candidate("pipe_east", [{"id": "pipe_east", "from": "furnace.waste_heat", "to": "east.heat", "capacity": "1 MW"}])
WEST = Candidate("pipe_west", [{"id": "pipe_west", "from": "furnace.waste_heat", "to": "west.heat", "capacity": "1 MW"}])


def test_a_batch_of_candidates_matches_the_park_run_with_each_edge_built():
    base, out, timing = simulate(PARK, [EAST, WEST], hours=48)
    # by hand: east saves 500 kWh/h × (90 EUR/MWh + 0.2 kg/kWh × 80 EUR/t) = 53 EUR/h; west 300 × 0.076 = 22.8 EUR/h
    assert out[0].saved == pytest.approx(500 * 48 * (0.09 + 0.016), rel=1e-9)
    assert out[1].saved == pytest.approx(300 * 48 * (0.06 + 0.016), rel=1e-9)
    assert out[0].co2_avoided_t == pytest.approx(500 * 48 * 0.2 / 1000, rel=1e-9)
    assert out[0].carried == {"pipe_east": pytest.approx(500 * 48)}
    assert out[0].efficiency_gain == pytest.approx(1.0)  # all waste heat used, none before
    for cand, b in zip((EAST, WEST), out, strict=True):
        built = copy.deepcopy(PARK)
        built["exchanges"] = cand.exchanges
        direct = evaluate(GraphRules(), compile_park(parse_graph(yaml.safe_dump(built), "built.yaml")), hours=48)
        assert base.objective - direct.objective == pytest.approx(b.saved, rel=1e-12)
    assert timing["candidate_years_per_min"] > 0


def test_the_best_set_shows_two_candidates_competing_for_the_same_heat():
    # east takes all 500 kW (it needs 800): west, added second, gets nothing, so the set stops at one
    picked = best_set(PARK, [EAST, WEST], 2, hours=24)
    assert picked == [("pipe_east", pytest.approx(500 * 24 * 0.106), pytest.approx(500 * 24 * 0.106))]
    # a smaller east (300 kW) leaves 200 kW: west's marginal benefit is 200 of its 300 kW alone
    park = copy.deepcopy(PARK)
    park["companies"][1] = _greenhouse("east", 300, 90)
    picked = best_set(park, [EAST, WEST], 2, hours=24)
    assert [p[0] for p in picked] == ["pipe_east", "pipe_west"]
    assert picked[1][1] == pytest.approx(300 * 24 * 0.076) and picked[1][2] == pytest.approx(200 * 24 * 0.076)


def test_a_candidate_reusing_an_exchange_id_or_empty_is_refused():
    park = copy.deepcopy(PARK)
    park["exchanges"] = EAST.exchanges
    with pytest.raises(ValueError, match="already in the park"):
        with_candidates(park, [EAST])
    with pytest.raises(ValueError, match="no exchanges"):
        with_candidates(PARK, [Candidate("nothing", [])])


def test_the_optimum_re_solved_per_candidate_agrees_with_the_rules_here():
    saved, timing = optimum_benefits(PARK, [EAST, WEST], hours=24)
    assert saved[0] == pytest.approx(500 * 24 * (0.09 + 0.016), rel=1e-6)
    assert saved[1] == pytest.approx(300 * 24 * (0.06 + 0.016), rel=1e-6)
    assert timing["build_s"] > 0


def test_the_sweep_on_a_local_ray_cluster_gives_the_local_result():
    import os
    import shutil
    import socket
    import subprocess
    import tempfile

    tmp_path = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay under 107 bytes

    ray_bin = shutil.which("ray", path=os.path.dirname(os.sys.executable))
    if ray_bin is None:
        pytest.skip("ray is not installed (pip install 'aisym[match]')")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_TMPDIR": str(tmp_path)}
    start = [ray_bin, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={tmp_path}"]
    subprocess.run(start, check=True, env=env, capture_output=True, timeout=120)
    try:
        cands = [EAST, WEST, Candidate("pipe_east_small", [{**EAST.exchanges[0], "id": "pipe_east_small",
                                                              "capacity": "200 kW"}])]
        _, local, _ = simulate(PARK, cands, hours=24)
        _, remote, timing = simulate(PARK, cands, hours=24, ray_address=f"127.0.0.1:{port}", chunk=2)
        assert timing["tasks"] == 2
        assert [b.id for b in remote] == [b.id for b in local]
        for a, b in zip(local, remote, strict=True):
            assert a.saved == pytest.approx(b.saved, rel=1e-12)
    finally:
        subprocess.run([ray_bin, "stop", "--force"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(tmp_path, ignore_errors=True)
