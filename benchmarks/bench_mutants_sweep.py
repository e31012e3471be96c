"""Mutation benchmark of a sweep's rows shared between worker processes (issue 22, item 6): would the
tests notice rows merged out of order, a failed chunk dropped, a stale compiled park, or a
``--workers`` that goes nowhere?

The companion of ``bench_mutants.py``, with the same method: each mutant is one change, applied as a
source patch to a temporary copy of the packages, and killed when the sweep's tests fail on it (Numba
on: the spawned workers load the kernel from the copy's cache, compiled once by the unmutated run).

``.venv/bin/python benchmarks/bench_mutants_sweep.py [--only NAME,...] [--list]``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants_runner import main  # a sibling script, not a package

SW, CLI, MS = "sim_env/graph/sweep_workers.py", "sim_env/match/cli.py", "sim_env/match/simulate.py"
TESTS = ["tests/sim_env/test_sweep_workers.py", "tests/sim_env/test_graph_sweep.py", "-k", "not ray"]

# (name, file, text, replacement): each text occurs exactly once in its file
MUTANTS = [
    ("workers: chunks merged last first", SW, "            out += runs\n", "            out[:0] = runs\n"),
    ("workers: a failed chunk is dropped (a partial result)", SW,
     "                raise SweepWorkerError(f\"sweep worker failed on {_chunk_name(labels, a, b)}: \"\n"
     "                                       f\"{type(e).__name__}: {why}\") from e\n", "                continue\n"),
    ("workers: each chunk loses its last row", SW, "self.park, masks[a:b]) for a, b in spans]",
     "self.park, masks[a:max(a + 1, b - 1)]) for a, b in spans]"),
    ("workers: a process keeps the first park it compiled", SW, "    if park.key not in _COMPILED:",
     "    if not _COMPILED:"),
    ("workers: the default starts a worker per core whatever the work", SW,
     "min(usable_cores(), rows, int(rows * hours // MIN_ROW_HOURS_PER_WORKER))", "min(usable_cores(), rows)"),
    ("match: --workers not passed to the batch", MS,
     "source=parks.source, compiled=(cp, masks), workers=workers)", "source=parks.source, compiled=(cp, masks))"),
    ("match: --workers with --ray accepted (one silently ignored)", CLI, "    if ray and workers:", "    if False:"),
]


if __name__ == "__main__":
    main(__doc__, MUTANTS, TESTS, no_jit=False)
