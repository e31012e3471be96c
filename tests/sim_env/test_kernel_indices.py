"""The kernel never indexes an array with a negative number (``kernel.indices_as_they_are``).

The generic kernel and the step functions generated from it are compiled without Numba's
wraparound of negative indices (a compare and a select per index: 28 % of the generic kernel's
time). That is only right if no index is ever negative: a table's ``-1`` ("none") must be tested
before it is used. Here every small hand park of the physics tests, parks with loops, generated
random parks (with and without loops, masked row by row) and both shipped parks run in a fresh
process with Numba's bounds check on and empty caches: with the wraparound gone, a negative index
is out of bounds and raises ``IndexError``. A cold compile with bounds checks (~45 CPU s), so it
runs with ``AISYM_TEST_SLOW_COMPILE=1`` (as the year-long ``fold`` parity test).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_SCRIPT = """
import numpy as np
from aisym.park.graph import load_graph
from sim_env.graph.compile import compile_park
from sim_env.graph.kernel import Batch
from tests.sim_env.physics.parks import ALL, compiled
from tests.sim_env.physics.parks_lost import FUEL_SHARED_TANK, LOST, shared_supply, SUPPLIES
from tests.sim_env.physics.test_loops import BIOGAS, _followers
from tests.sim_env.physics.test_mask import LOOPED, RANDOM, random_park

docs = dict(ALL) | dict(LOST) | {"fuel_shared_tank": FUEL_SHARED_TANK, "biogas_loop": BIOGAS,
                                 "followers": _followers()}
docs |= {f"shared_{k}": shared_supply(k) for k in SUPPLIES}
docs |= {f"random_{s}": random_park(s) for s in RANDOM[:3] + list(LOOPED[:3])}
parks = {name: compiled(doc) for name, doc in docs.items()}
parks["kraakoya"] = compile_park(load_graph())
parks["kalundborg"] = compile_park(load_graph("aisym/parks/kalundborg.yaml"))
rng = np.random.default_rng(0)
steps = 0
for name, cp in parks.items():
    K = 8
    mask = np.tile(cp.LE, (K, 1))
    mask[1:] *= rng.random((K - 1, mask.shape[1])) < 0.7  # rows with exchanges switched off
    b = Batch(cp, cp.exogenous(seed=0), K, mask=mask)
    for t in range(48):
        A = rng.random((K, cp.n_actions))
        A[0, :] = np.nan if t % 5 == 0 else A[0, :]  # the rules' own choice
        A[1] = np.where(rng.random(cp.n_actions) < 0.3, 1.5, -0.5)  # out of range, clipped
        b.step(A)
        steps += K
print(len(parks), steps)
"""


@pytest.mark.skipif(not os.environ.get("AISYM_TEST_SLOW_COMPILE"),
                    reason="a cold compile with bounds checks, ~45 CPU s; set AISYM_TEST_SLOW_COMPILE=1")
@pytest.mark.expensive
def test_no_index_of_the_kernel_is_ever_negative(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path / "numba"),
               AISYM_KERNEL_CACHE=str(tmp_path / "kernels"))
    out = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    n_parks, steps = map(int, out.stdout.split())
    assert n_parks >= 30 and steps == n_parks * 8 * 48
