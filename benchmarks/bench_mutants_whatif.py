"""Mutation benchmark of the park checks and what-if rules of issue 22 (findings 6, 7 and 10; item 1's
series and settings edits):
would their tests notice a wrong rule?

The companion of ``bench_mutants.py`` (the physics of the kernel, compiler and LP), with the same
method: each mutant is one meaningful change, applied as a source patch to a temporary copy of
the packages, and killed when the tests of these rules fail on it (Numba off).

``.venv/bin/python benchmarks/bench_mutants_whatif.py [--only NAME,...] [--list]``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants_runner import main  # a sibling script, not a package

B, OUT = "aisym/park/graph/build.py", "aisym/park/graph/outlets.py"
W, U = "sim_env/graph/whatif.py", "sim_env/graph/units.py"
TESTS = ["tests/sim_env/test_validation_outlets.py", "tests/sim_env/test_graph_whatif_links.py",
         "tests/sim_env/test_graph_units.py", "tests/sim_env/test_kraakoya_whatifs.py"]

# (name, file, text, replacement): each text occurs exactly once in its file
MUTANTS = [
    ("validation: a disabled exchange counts as an outlet (finding 6)", OUT,
     "k for link in out if link.enabled for k in takers(", "k for link in out for k in takers("),
    ("validation: a unit's input that neither follows nor has a backup takes a push (finding 6)", OUT,
     "(asks or port.backup is not None or (", "(True or ("),
    ("validation: a must-run unit with no outlet is only noted (finding 6)", B,
     "elif not reached and must_run:", "elif False:"),
    ("whatif: a port holding a market and a plant's output counts as a seller (finding 7)", W,
     "return bool(members) and all(ok(t, priced) for t, priced in members)",
     "return any(ok(t, priced) for t, priced in members)"),
    ("whatif: an asset holding a market makes all its links trade (finding 7)", W,
     "return {link.id for link in graph.links if only(link.src, (\"out\", \"both\"), sells)",
     "return {link.id for link in graph.links if any(kind[k][0] == \"market\" for k in kind "
     "if k.split('.')[0] == link.src.split('.')[0])"),
    ("whatif: sales to a market go off with the links (findings 6, 7)", W,
     "\n            or only(link.dst, (\"in\", \"both\"), lambda t, _: t == \"market\")}", "}"),
    ("units: every carrier counted in one unit (finding 10)", U, "    return amount_unit(p.carrier.resource)\n",
     "    return \"units\"\n"),
    ("units: a demand's shortfall not attributed to its unit (finding 10)", U,
     "short = max(float(needs[n] - act[n]), 0.0)", "short = 0.0"),
    ("whatif: a series edit replaces the series' parameters it does not name (issue 22, item 1)", W,
     "out[k] = _merged(out.get(k), v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v",
     "out[k] = v"),
    ("whatif: the park's settings ignored (issue 22, item 1)", W,
     "    doc[\"park\"] = _merged(doc[\"park\"], overlay.settings)\n", ""),
    ("whatif: a series the park lacks is added, not refused (issue 22, item 1)", W,
     "(\"series\", overlay.series, set(doc.get(\"series\") or {}))", "(\"series\", [], set())"),
]



if __name__ == "__main__":
    main(__doc__, MUTANTS, [*TESTS, "-k", "not twin_run"])
