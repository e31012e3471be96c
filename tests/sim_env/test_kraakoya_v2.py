"""Kråkøya ships as a v2 park with its citations (issue 22, item 1): ``aisym/parks/kraakoya_v2.yaml``
gives the same twin as the v1 file converted on load, and keeps every comment of the v1 file.

The v1 file stays beside it while the gateway, the ingestor, the controller and the demo read the
v1 model (``aisym.park.load_park``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from aisym.park.graph import load_graph
from sim_env.graph.compile import compile_park
from sim_env.graph.kernel import Batch

PARKS = Path(__file__).resolve().parents[2] / "aisym" / "parks"


def test_every_comment_of_the_v1_file_is_kept_in_the_v2_file():
    v2 = (PARKS / "kraakoya_v2.yaml").read_text(encoding="utf-8")
    kept = set(re.findall(r"#\s*(.+?)\s*$", v2, re.MULTILINE))
    lost = [c for c in re.findall(r"#\s*(.+?)\s*$", (PARKS / "kraakoya.yaml").read_text(encoding="utf-8"),
                                  re.MULTILINE) if c not in kept]
    assert lost == []


def test_the_v2_file_is_the_migrated_v1_park():
    v1, v2 = load_graph(PARKS / "kraakoya.yaml"), load_graph(PARKS / "kraakoya_v2.yaml")
    assert v2.notes == v1.notes
    assert v2.tags == v1.tags and v2.series == v1.series and v2.links == v1.links
    assert [(n.key, n.type, n.ports, n.num, n.val, n.text) for n in v2.nodes] == \
        [(n.key, n.type, n.ports, n.num, n.val, n.text) for n in v1.nodes]


def test_a_year_of_random_actions_runs_the_same_on_both_files():
    cps = [compile_park(load_graph(PARKS / f)) for f in ("kraakoya.yaml", "kraakoya_v2.yaml")]
    A = np.random.default_rng(7).random((8760, cps[0].n_actions))
    runs = []
    for cp in cps:
        b = Batch(cp, cp.exogenous(seed=3), 1)
        runs.append(np.array([b.step(a[None])[0].copy() for a in A]))
    assert cps[0].action_names == cps[1].action_names and runs[0].shape == runs[1].shape
    scale = np.maximum(np.abs(runs[0]), 1.0)
    assert float(np.max(np.abs(runs[1] - runs[0]) / scale)) <= 1e-12
