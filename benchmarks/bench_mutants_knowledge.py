"""Mutation benchmark of issue 23 item 1 (the knowledge base's rules and the recall benchmark's
leakage guard): would their tests notice a wrong rule?

The companion of ``bench_mutants.py``, with its method: each mutant is one meaningful change,
applied as a source patch to a temporary copy of the packages (and of the recall benchmark, which
the guard's test loads), and killed when the tests of these rules fail on it.

``.venv/bin/python benchmarks/bench_mutants_knowledge.py [--only NAME,...] [--list]``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants_runner import main  # a sibling script, not a package

K, B = "sim_env/match/knowledge.py", "benchmarks/bench_match_recall.py"
C, L = "sim_env/match/corpus.py", "sim_env/match/classifications.py"
TESTS = ["tests/sim_env/test_match_knowledge.py", "tests/sim_env/test_match_knowledge_rules.py",
         "tests/sim_env/test_match_knowledge_guard.py", "tests/sim_env/test_match_corpus_water.py",
         "tests/sim_env/test_classifications_nb.py"]

# (name, file, text, replacement): each text occurs exactly once in its file
MUTANTS = [
    ("knowledge: an EWC code not in the List of Waste accepted", K,
     "if classifications.ewc(c.rstrip(\"*\")) is None:", "if False:"),
    ("knowledge: a NACE code not in nace.csv accepted", K, "if classifications.nace(c) is None:", "if False:"),
    ("knowledge: an entry without a source accepted", K, "if not _SOURCE.search(s):", "if False:"),
    ("knowledge: a heat supply's temperature band ignored", K,
     "        found = _in_band(found, supply.temperature_c)\n", "        pass\n"),
    ("knowledge: a band's edges read as exclusive", K,
     "u.temperature_c[0] <= temperature_c <= u.temperature_c[1]", "u.temperature_c[0] < temperature_c < u.temperature_c[1]"),
    ("knowledge: a reversed temperature band accepted", K, "if v is not None and not v[0] < v[1]:", "if False:"),
    ("knowledge: a temperature band on a residue accepted", K,
     "if u.temperature_c is not None and u.resource not in _THERMAL:", "if False:"),
    ("knowledge: a listed division weighs as much as a listed class", K,
     "(_DIVISION if len(p.rstrip(\".\")) == 2 else 1.0)", "1.0"),
    ("guard: a held-out park's own entries kept", K,
     "return Selection(u for u in uses if not all(about(s, names, refs) for s in u.sources))", "return Selection(uses)"),
    ("guard: an entry with one independent source dropped", K,
     "return Selection(u for u in uses if not all(about(s, names, refs) for s in u.sources))",
     "return Selection(u for u in uses if not any(about(s, names, refs) for s in u.sources))"),
    ("guard: the park's name not matched", K, "if any(re.search(rf\"\\b{re.escape(_plain(n))}\\b\", plain)",
     "if False and any(re.search(rf\"\\b{re.escape(_plain(n))}\\b\", plain)"),
    ("guard: the DOIs the park's exchanges cite not matched", K,
     "return bool(_refs(source) & {r.lower().rstrip(\"/.,;)\") for r in refs})", "return False"),
    ("guard: the benchmark ranks a fold with the whole knowledge base", B,
     "G = np.array([ranking.features(x.giver_nace, x.resource, c, prior, fold) for _, c in cands])",
     "G = np.array([ranking.features(x.giver_nace, x.resource, c, prior, uses) for _, c in cands])"),
    ("corpus: a table's water words lose their grade", C,
     '"waste water": "water:wastewater", "wastewater": "water:wastewater",', '"waste water": "water", "wastewater": "water",'),
    ("corpus: a graded water ('water:treated') refused", C, '    if low.startswith("water:"):', "    if False:"),
    ("knowledge: a water's grade ignored", K, "        found = _graded(found, supply.grade)\n", "        pass\n"),
    ("lists: a Norwegian name without its source accepted", L,
     'if (row.get("description_nb") or "").strip() and not (row.get("source_nb") or "").strip():', "if False:"),
    ("lists: Norwegian words not searched", L, 'text = f"{e.description} {e.description_nb}".lower()',
     "text = e.description.lower()"),
]



if __name__ == "__main__":
    main(__doc__, MUTANTS, TESTS, files=[B, "tests/sim_env/match_data/exchanges_small.csv"], no_jit=False)
