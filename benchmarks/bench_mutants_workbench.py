"""Mutation benchmark of the workbench's estimates and the impact page's worker job (issue 23 item 3,
and the impact page's first view): would their tests notice a wrong rule?

The method of ``bench_mutants.py``, through its runner: each mutant is one meaningful change,
applied as a source patch to a temporary copy of the packages (``cloud`` too), and killed when
the tests fail on it (Numba off: the impact park's year runs in Python). The workbench's fixtures
are loaded as plugins (the runner runs pytest with ``--noconftest``). The row policies of the
twin's jobs are PostgreSQL's and are checked in ``tests/workbench/test_postgres.py``'s run, not here.

``.venv/bin/python benchmarks/bench_mutants_workbench.py [--only NAME,...] [--list]``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants_runner import main  # a sibling script, not a package

E, EST, CV = "cloud/workbench/engine.py", "cloud/workbench/companies/estimated.py", "cloud/workbench/companies/views.py"
ST, IV = "cloud/workbench/simulations/store.py", "cloud/workbench/impact/views.py"
TESTS = ["tests/workbench/test_estimates_workbench.py", "tests/workbench/test_impact_twin_job.py"]
# what the tests import or read besides themselves (the fixtures' modules and the test parks)
FILES = ["tests/conftest.py", "tests/workbench/__init__.py", "tests/workbench/conftest.py",
         "tests/workbench/test_simulations_cli.py", "tests/workbench/test_simulations_job.py",
         *[f"tests/workbench/data/{n}.yaml" for n in ("bakery_park", "impact_park", "two_parks_a", "two_parks_b")]]

# (name, file, text, replacement): each text occurs exactly once in its file
MUTANTS = [
    ("engine: the ranking leaves the estimates out", E,
     "match_park(graph, opts, None, seed, None, estimated(text, graph))", "match_park(graph, opts, None, seed)"),
    ("engine: the park text (and version) does not say what is estimated", E,
     'text = export_park(park) + "".join(f"{ESTIMATE}{a}\\n" for a in estimate_args(park, companies))',
     "text = export_park(park)"),
    ("company page: a listing does not replace the estimate", EST,
     "merged = apply({company.slug: stated}, [est])[company.slug]", "merged = est"),
    ("company page: estimates (from the park-tier head count) shown to the public tier", CV,
     "estimates, notes = estimates_of(c) if tier >= PARK else ([], [])", "estimates, notes = estimates_of(c)"),
    ("company page: a neighbour may confirm another company's estimate", CV,
     "    c = tenancy.editable_company_or_404(v, park, company)\n    flow, action =",
     "    c = tenancy.company_or_404(v, park, company)\n    flow, action ="),
    ("impact: the first view runs the twin's year in the request", ST,
     '    if runner.mode() == "inline":\n        runner.launch(job)\n',
     '    if True:  # as before: the year run here, whatever the mode\n        from .worker import run\n\n'
     '        run(job.pk, slots=False)\n'),
    ("impact: every view asks for another year", ST,
     "job = Job.objects.filter(park=park, version=version, signature=sig, kind=Job.IMPACT).first()", "job = None"),
    ("impact: the page is not reloaded when the year is done", IV,
     'response["HX-Refresh"] = "true"', 'response["X-Refresh"] = "true"'),
]


if __name__ == "__main__":
    main(__doc__, MUTANTS, ["-p", "tests.conftest", "-p", "tests.workbench.conftest", *TESTS, "-k", "not axe"],
         files=FILES, trees=["cloud"])
