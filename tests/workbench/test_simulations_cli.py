"""The same figure in both places: a twin test through the web equals ``aisym match --simulate``.

The CLI runs in a subprocess on the park file the workbench exports (``engine.park_text``, what
``aisym workbench export`` writes), with the same hours, the same candidates (its ``--top N``
against the web's same N keys) and the same best set; every figure agrees to 1e-9.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

from .test_simulations_job import HOURS, _client, _start, bakery  # noqa: F401 (the fixture)

N, SET = 3, 2


def _diff(a, b, path="") -> list[str]:
    """Where two JSON values differ (numbers: by more than 1e-9, relative to their size)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a for d in _diff(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _diff(x, y, f"{path}[{i}]")]
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        ok = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
        return [] if ok else [f"{path}: {a!r} vs {b!r}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def test_a_twin_test_on_the_web_equals_aisym_match_simulate(bakery, tmp_path):  # noqa: F811 (the fixture)
    from cloud.workbench import engine
    from cloud.workbench.simulations.models import Job
    from cloud.workbench.simulations.worker import _finite

    park = bakery.bakery_park
    r = _start(_client(bakery, "fac"), park, bakery.keys[:N], set_size=SET)
    assert r.status_code == 302, r.content.decode()[-400:]
    web = Job.objects.get()
    assert web.state == Job.DONE, web.error
    exported = tmp_path / f"{park.slug}.yaml"
    exported.write_text(engine.park_text(park), encoding="utf-8")
    cli = subprocess.run([sys.executable, "-m", "aisym", "match", str(exported), "--simulate", "--format", "json",
                          "--top", str(N), "--hours", f"{HOURS:g}", "--set", str(SET)],
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    data = _finite(json.loads(cli.stdout))
    ours = dict(web.result)
    assert ours.pop("timings") and data.pop("timings")  # wall times: the only figures that may differ
    differences = _diff(ours, data)
    assert not differences, "\n".join(differences[:20])
    assert len(ours["ranking"]) == N and ours["best_set"] and ours["shapley"]
    page = _client(bakery, "fac").get(r["Location"]).content.decode()  # the facilitator's page: park-tier totals
    assert "The best set (candidates compete)" in page and f"{ours['ranking'][0]['saved_per_year']:,.0f}" in page
    assert "Shapley split" not in page  # no company let the facilitator see its money
    print(f"web = CLI to 1e-9: {N} candidates, best set of {len(ours['best_set'])}, "
          f"{sum(len(v) for v in ours['companies'].values())} company shares, "
          f"{len(ours['flows_before'])} flows before")
