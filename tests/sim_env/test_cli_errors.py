"""The twin, bench, train and match commands: a user's mistake gets one line and exit 2, never a traceback.

Each test names the finding of issue 18 it covers (14: tracebacks; 15: silent or wrong).
The commands run on an app built from the sim_env command groups alone, as ``aisym`` mounts them.
"""

from __future__ import annotations

import csv
import json
import re
import socket
import subprocess
import sys
import time

import pytest
import typer
from typer.testing import CliRunner

KALUNDBORG = "aisym/parks/kalundborg.yaml"


def _app() -> typer.Typer:
    from sim_env.cli import register as twin
    from sim_env.match.cli import register as match
    from sim_env.rl.cli import register as rl

    app = typer.Typer()
    for register in (twin, rl, match):
        register(app)
    return app


def _invoke(*args: str):
    return CliRunner().invoke(_app(), list(args), terminal_width=200)


def _one_line_exit_2(r, *must: str) -> str:
    assert r.exit_code == 2, (r.exit_code, r.output, r.exception)
    assert "Traceback" not in r.output and (r.exception is None or isinstance(r.exception, SystemExit)), r.exception
    text = r.output.strip()
    assert len(text.splitlines()) == 1, text
    for m in must:
        assert m in text, text
    return text


@pytest.fixture
def bad_park(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("schema_version: 2\npark: [unclosed\n")
    return path


# -- finding 14 -----------------------------------------------------------------------------------
def test_whatif_with_a_missing_overlay(tmp_path):
    _one_line_exit_2(_invoke("twin", "whatif", str(tmp_path / "nope.yaml"), "--hours", "2"), "nope.yaml")


def test_whatif_whose_base_park_is_missing(tmp_path):
    overlay = tmp_path / "w.yaml"
    overlay.write_text("name: x\npark: gone.yaml\n")
    _one_line_exit_2(_invoke("twin", "whatif", str(overlay), "--hours", "2"), "gone.yaml")


@pytest.mark.parametrize("which", ["missing", "bad"])
def test_bench_park_with_a_missing_or_bad_file(tmp_path, bad_park, which):
    park = tmp_path / "nope.yaml" if which == "missing" else bad_park
    r = _invoke("bench", "--park", str(park), "--hours", "2", "--seeds", "1", "--out", str(tmp_path / "lb"))
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert park.name in r.output and not (tmp_path / "lb").exists()
    if which == "bad":
        assert re.search(rf"{re.escape(str(park))}:\d+:\d+: ", r.output), r.output  # file:line:col of the problem


@pytest.mark.parametrize("which", ["missing", "bad"])
def test_train_park_with_a_missing_or_bad_file(tmp_path, bad_park, which):
    park = tmp_path / "nope.yaml" if which == "missing" else bad_park
    r = _invoke("train", "--env", "aisym/Park-v1", "--park", str(park), "--out", str(tmp_path / "run"))
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert park.name in r.output and not (tmp_path / "run").exists()
    if which == "bad":
        assert re.search(rf"{re.escape(str(park))}:\d+:\d+: ", r.output), r.output


# -- finding 15: twin run --exo, twin series / compare on a v2 park --------------------------------
def test_twin_run_exo_on_a_v2_park_refuses_a_garbage_csv(tmp_path):
    garbage = tmp_path / "garbage.csv"
    garbage.write_text("foo,bar\n1,2\n")
    _one_line_exit_2(_invoke("twin", "run", KALUNDBORG, "--hours", "24", "--exo", str(garbage)),
                     f"{garbage}:1: column 'foo': not a series of park kalundborg")
    short = tmp_path / "short.csv"
    short.write_text("hour,price\n0,100\n1,oops\n")
    _one_line_exit_2(_invoke("twin", "run", KALUNDBORG, "--hours", "2", "--exo", str(short)),
                     f"{short}:3: column 'price': not a number")


def test_twin_series_writes_a_v2_parks_series_and_twin_run_replays_them(tmp_path):
    series = tmp_path / "k.csv"
    r = _invoke("twin", "series", str(series), "--park", KALUNDBORG)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(series.open()))
    assert len(rows) == 8760 and "price" in rows[0] and "town_heat" in rows[0]
    plain, same, dear = tmp_path / "plain.json", tmp_path / "same.json", tmp_path / "dear.json"
    assert _invoke("twin", "run", KALUNDBORG, "--hours", "24", "--out", str(plain)).exit_code == 0
    assert _invoke("twin", "run", KALUNDBORG, "--hours", "24", "--exo", str(series), "--out", str(same)).exit_code == 0
    for row in rows[:24]:  # electricity three times dearer for the day (the park sells more than it buys)
        row["price"] = str(3 * float(row["price"]))
    with series.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows[:24])
    assert _invoke("twin", "run", KALUNDBORG, "--hours", "24", "--exo", str(series), "--out", str(dear)).exit_code == 0
    cost = {p.stem: json.loads(p.read_text())["kpis"]["cost"] for p in (plain, same, dear)}
    assert cost["same"] == pytest.approx(cost["plain"], rel=1e-5)  # the CSV is the generated year, to 6 digits
    assert abs(cost["dear"] - cost["plain"]) > 0.05 * cost["plain"], cost  # the CSV is used, not ignored


def test_twin_compare_on_a_v2_park_says_what_to_use(tmp_path):
    text = _one_line_exit_2(_invoke("twin", "compare", KALUNDBORG, KALUNDBORG, "--hours", "2", "--out", str(tmp_path)),
                            "twin whatif", "twin run")
    assert "Field required" not in text  # not the v1 schema's 245 "problems"


def test_twin_run_applies_a_shipped_whatif_to_the_shipped_park(tmp_path):
    """Issue 22: with the hand-written twin gone, a shipped what-if of Kråkøya runs on the compiled twin."""
    base, without = tmp_path / "base.json", tmp_path / "without.json"
    for scenario, out in ((None, base), ("aisym/parks/kraakoya_whatif/no_symbiosis.yaml", without)):
        args = ["twin", "run", *([scenario] if scenario else []), "--hours", "24", "--out", str(out)]
        r = _invoke(*args)
        assert r.exit_code == 0 and r.exception is None, (r.output, r.exception)
    cost = {p: json.loads(p.read_text())["kpis"]["cost"] for p in (base, without)}
    assert cost[without] > cost[base]  # desalinated water and bought O2 instead of the links


def test_bench_with_a_policy_of_another_park_only_is_refused_in_one_line(tmp_path):
    r = _invoke("bench", "--park", KALUNDBORG, "--strategy", "ppo=kraakoya_ppo", "--scenario", "base", "--hours", "2",
                "--seeds", "1", "--out", str(tmp_path / "lb"))
    _one_line_exit_2(r, "fits none of the scenarios", "does not fit park 'kalundborg'")
    assert not (tmp_path / "lb").exists()


# -- finding 15: --ray ADDRESS where no cluster answers -------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ray_address_where_nothing_answers_is_one_line_within_seconds():
    code = ("import sys; from typer.testing import CliRunner; from tests.sim_env.test_cli_errors import _app;"
            f"r = CliRunner().invoke(_app(), ['match', '{KALUNDBORG}', '--simulate', '--hours', '24', '--ray', "
            f"'127.0.0.1:{_free_port()}']); print(r.output, end=''); sys.exit(r.exit_code)")
    t0 = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("--ray with no cluster still running after 90 s")
    seconds = time.perf_counter() - t0
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr[-2000:])
    assert "no Ray cluster answers" in p.stdout and len(p.stdout.strip().splitlines()) == 1, p.stdout
    assert seconds < 60, seconds


def test_ray_check_is_bounded_for_a_silent_address():
    from sim_env.graph.sweep import RayUnreachable, check_ray

    t0 = time.perf_counter()
    with pytest.raises(RayUnreachable, match="HOST:PORT"):
        check_ray("nonsense")
    with pytest.raises(RayUnreachable, match="no Ray cluster answers"):
        check_ray(f"127.0.0.1:{_free_port()}", timeout_s=2.0)
    assert time.perf_counter() - t0 < 10


def test_train_into_a_finished_run_is_refused_without_force(tmp_path):
    import zipfile

    run = tmp_path / "run"
    run.mkdir()
    with zipfile.ZipFile(run / "model.zip", "w") as z:  # what SB3 writes: num_timesteps in the zip's "data"
        z.writestr("data", json.dumps({"num_timesteps": 5000}))
    r = _invoke("train", "--timesteps", "1000", "--out", str(run))
    _one_line_exit_2(r, "finished run of 5,000 steps", "--force")
    assert (run / "model.zip").exists()


def test_train_kernel_option_is_checked():
    _one_line_exit_2(_invoke("train", "--kernel", "fast", "--out", "unused"), "--kernel 'fast': use one of fold, generic")
    # aisym/Park-v0, the hand-written twin, was retired (issue 22): refused before anything is built
    _one_line_exit_2(_invoke("train", "--env", "aisym/Park-v0", "--out", "unused"), "aisym/Park-v0", "retired",
                     "aisym/Park-v1")
