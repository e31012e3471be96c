"""Mutation benchmark of issue 23 items 3 and 4 (estimates from NACE and size; every company simulated):
would their tests notice a wrong rule?

The companion of ``bench_mutants.py``, with its method: each mutant is one meaningful change,
applied as a source patch to a temporary copy of the packages, and killed when the tests of these
rules fail on it (Numba off).

``.venv/bin/python benchmarks/bench_mutants_match.py [--only NAME,...] [--list]``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants_runner import main  # a sibling script, not a package

E, C, S = "sim_env/match/estimates.py", "sim_env/match/companies_in_twin.py", "sim_env/match/simulate.py"
IMP, CLI = "sim_env/match/importers.py", "sim_env/match/cli.py"
TESTS = ["tests/sim_env/test_match_estimates.py", "tests/sim_env/test_match_simulate_companies.py",
         "tests/sim_env/test_match_template_employees.py"]

# (name, file, text, replacement): each text occurs exactly once in its file
MUTANTS = [
    ("estimates: a sector total not divided by the persons it employs", E,
     "return total.value * _TO_CANONICAL[total.unit] / persons.value", "return total.value * _TO_CANONICAL[total.unit]"),
    ("estimates: an energy carrier's share ignored", E, "annual = coef * size * r.share", "annual = coef * size"),
    ("estimates: the most specific sector's EWC code not preferred", E,
     "return [r for r in fits if len(r.nace) == longest]", "return fits[-1:]"),
    ("estimates: a stated flow does not replace the estimate", E,
     "kept = [f for f in est.flows if not any(_same(s, f) for s in old.flows if not s.estimate)]",
     "kept = list(est.flows)"),
    ("estimates: a row without a source accepted", E, "if not _URL.match(row[\"source\"]):", "if False:"),
    ("twin: a stated output's present route costs nothing", C,
     "present = {\"cost\": float(flow.cost or 0.0)", "present = {\"cost\": 0.0"),
    ("twin: the placed assets left out of the park's own run", S,
     "doc = settle(doc, plans)  #", "plans = plans  #"),
    ("twin: an implausible simulated figure ranked", S, "    _flag(out, graph, per_year)\n", "\n"),
    ("twin: a flagged candidate picked for the best set", S, "[p.candidate for p in todo if not p.why_not]",
     "[p.candidate for p in todo]"),
    ("twin: a loss larger than the park's cost not flagged", C,
     "if saved < 0 and -saved > abs(park_cost) > 0:", "if False:"),
    ("twin: the value ceiling of a simulated figure not checked", C, "if per_unit > ceiling:", "if False:"),
    ("template: a fractional number of employees accepted", IMP, "if not math.isfinite(n) or n != int(n):",
     "if not math.isfinite(n):"),
    ("template: no employees (0 or fewer) accepted", IMP, "if not 1 <= n <= MAX_EMPLOYEES:", "if not n <= MAX_EMPLOYEES:"),
    ("template: a company's employees that differ from an earlier row accepted", IMP,
     "if staff is not None and p.employees not in (None, staff):", "if False:"),
    ("template: employees stated on a later row of the company lost", IMP,
     "    if prof.employees is None:\n        prof.employees = _employees(cells)\n", ""),
    ("template: a company's employees do not make an estimate", E,
     "        if p.employees is None:\n            continue\n", "        continue\n"),
    ("template: --estimate and the template's employees both estimate one company", CLI,
     "estimated += [p for cid, p in sized.items() if cid not in given]", "estimated += list(sized.values())"),
]



# issue 23 item 3, every sector: the waste, energy and water families, production per tonne, the most specific
# figure, the gaps said (tests/sim_env/test_match_estimates_sectors.py)
TESTS.append("tests/sim_env/test_match_estimates_sectors.py")
MUTANTS += [
    ("estimates: per-employee scaling dropped (a sector's figure per person, whatever the size)", E,
     "annual = coef * size * r.share", "annual = coef * r.share"),
    ("estimates: a NACE group does not cover its classes (24.1 misses 24.10)", E,
     "(code.startswith(n) and (len(n) > 2 or code[2:3] == \".\"))", "code.startswith(n + \".\")"),
    ("estimates: the least specific total of a family wins", E,
     "best = max(usable, key=lambda t: _specificity(t, code))", "best = min(usable, key=lambda t: _specificity(t, code))"),
    ("estimates: a per-tonne figure ignored", E,
     "by_tonne = _chosen(family, code, per_t, lambda t: True)", "by_tonne = []"),
    ("estimates: a total beside the persons of other sectors accepted", E,
     "if t.per and not all(out[t.per].covers(c) for c in t.nace):", "if False:"),
    ("estimates: a flow rule's EWC code outside the List of Waste accepted", E,
     "if r[\"ewc\"] and ewc_entry(r[\"ewc\"]) is None:", "if False:"),
    ("estimates: a sector without a figure says nothing", E,
     "            notes += _why_none(family, code, totals, load_gaps())\n", "            pass\n"),
    ("estimates: an ambiguous 'ton' of production accepted", E,
     "if unit.startswith(\"ton\") and not unit.startswith(\"tonne\"):", "if False:"),
]

# the region's ranking: the known-use part of every sector in one pass must be the pairwise one
# (tests/sim_env/test_match_region.py)
K = "sim_env/match/knowledge.py"
TESTS.append("tests/sim_env/test_match_region.py")
MUTANTS += [
    ("region: the donor's fit dropped in the all-sectors pass", K,
     "np.maximum(best, fit * fits.row(u) * donor_fit(u, donor_nace), out=best)",
     "np.maximum(best, fit * fits.row(u), out=best)"),
    ("region: a water grade ignored in the all-sectors pass", K,
     "found = _graded(found, supply.grade)  # one grade's entries only", "found = found  # one grade's entries only"),
]


if __name__ == "__main__":
    main(__doc__, MUTANTS, TESTS)
