"""Docs that run: every ``aisym`` console example in README.md and docs/*.md is executed.

An example is a line of a ```bash / ```sh / ```console / ```shell (or unlabelled) block that
starts with ``aisym``, ``.venv/bin/aisym`` or ``$ aisym`` (a trailing ``\\`` continues it). The
lines of one block run in order, in one folder of their own whose ``aisym/``, ``edge/``,
``sim_env/``, ``hardware/``, ``cloud/`` and ``docs/`` point at this checkout (what an example
writes stays there); ``export NAME=VALUE`` lines of the block set the environment.

Markers, in the example's own trailing comment, so a reader sees them too:

- ``# needs: WHAT`` — not run here (hardware, a site's own files, a real broker...): say what.
- ``# long: OPTIONS`` — a long run (a year-long optimum, training): run with the doc's own
  short OPTIONS appended, e.g. ``# long: --hours 48``.

A figure the comment states as ``NUMBER noun`` (``38 exchanges``), on the example's line or in
the comment lines right under it (the output the doc shows), must be in the output wherever the
output speaks of that noun (``136 candidates`` against a stated ``92 candidates``); times
(``7 s``, ``2 min``) are not checked.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
AISYM = Path(sys.executable).with_name("aisym")
LINKED = ("aisym", "edge", "sim_env", "hardware", "cloud", "docs")
TIME_UNITS = {"s", "ms", "min", "h", "hours", "minutes", "seconds", "days", "x"}
BUDGET_S = 180  # one example's wall-clock limit (a cold Numba cache under load)
# Examples in docs owned by other parts that do not run as written yet: (doc, command) -> why.
# The block runs up to such a line, which is not run (it is long or cannot pass) and the block
# xfails; test_known_examples_are_still_there fails once the doc marks or changes the line.
KNOWN: dict[tuple[str, str], str] = {
}


def _split_comment(line: str) -> tuple[str, str]:
    """The command and its trailing comment (a ``#`` after whitespace, outside quotes)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].strip(), line[i + 1 :].strip()
    return line.strip(), ""


def examples() -> list[tuple[str, int, list[tuple[str, str]]]]:
    """(doc, line, [(command, comment), ...]) for each block that holds an aisym example."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in re.finditer(r"^```(\w*)[^\n]*\n(.*?)^```", text, re.S | re.M):
            if m.group(1) not in ("bash", "sh", "console", "shell", ""):
                continue
            lines, buf = [], ""
            for raw in m.group(2).splitlines():
                buf += raw.rstrip()
                if buf.endswith("\\"):
                    buf = buf[:-1] + " "
                    continue
                cmd, comment = _split_comment(re.sub(r"^\s*\$ ", "", buf))
                cmd = re.sub(r" {2,}", " ", cmd)  # a continued line's indent
                buf = ""
                if not cmd and comment and lines and not lines[-1][0].startswith("export "):
                    lines[-1] = (lines[-1][0], f"{lines[-1][1]} {comment}")  # the output the doc shows under it
                    continue
                if re.match(r"(\.venv/bin/)?aisym\s", cmd) or cmd.startswith("export "):
                    lines.append((cmd, comment))
            if any(not c.startswith("export ") for c, _ in lines):
                found.append((doc.relative_to(ROOT).as_posix(), text[: m.start()].count("\n") + 2, lines))
    return found


def _params():
    for doc, line, lines in examples():
        yield pytest.param(doc, lines, id=f"{doc}:{line}")


def _marked(comment: str) -> bool:
    return bool(re.search(r"(needs|long):", comment))


def figures(comment: str) -> list[str]:
    """The ``NUMBER noun`` figures of a comment, times left out."""
    out = []
    for n, noun in re.findall(r"(?<![\w.,-])(\d+(?:,\d{3})*(?:\.\d+)?) ([A-Za-z][\w-]*)", comment):
        if noun not in TIME_UNITS:
            out.append(f"{n} {noun}")
    return out


def _run(args: list[str], cwd: Path, env: dict) -> tuple[int | str, str]:
    """Exit code and output; past BUDGET_S the example and everything it started get Ctrl-C, then KILL."""
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=BUDGET_S)
        return proc.returncode, " ".join(out.split())
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)  # what a user does: Ctrl-C stops what the command started
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        return f"none: still running after {BUDGET_S} s", " ".join(out.split())


@pytest.fixture
def folder(tmp_path):
    for name in LINKED:
        (tmp_path / name).symlink_to(ROOT / name)
    yield tmp_path
    if (tmp_path / ".aisym" / "services").exists():  # an example that started the services and failed before down
        subprocess.run([str(AISYM), "services", "down"], cwd=tmp_path, capture_output=True, timeout=120)


@pytest.mark.expensive
@pytest.mark.timeout(BUDGET_S * 4)
@pytest.mark.parametrize(("doc", "lines"), list(_params()))
def test_doc_example_runs(doc, lines, folder):
    tmp_path = folder
    env = {**os.environ, "COLUMNS": "200"}
    ran = skipped = 0
    for cmd, comment in lines:
        if cmd.startswith("export "):
            env.update(a.split("=", 1) for a in shlex.split(cmd)[1:] if "=" in a)
            continue
        if (doc, cmd) in KNOWN and not _marked(comment):
            pytest.xfail(f"{doc}: `{cmd}`: {KNOWN[(doc, cmd)]} ({ran} examples before it ran)")
        needs = re.search(r"needs:\s*([^#]+)", comment)
        if needs:
            skipped += 1
            continue
        args = shlex.split(cmd)
        args[0] = str(AISYM)
        long = re.search(r"long:\s*([^#]+)", comment)
        if long:
            args += shlex.split(long.group(1))
        code, out = _run(args, tmp_path, env)
        assert code == 0, f"{doc}: `{cmd}` exited {code}: {out[-1500:]}"
        for fig in figures(re.sub(r"(needs|long):[^#]*", "", comment)):
            if not re.search(rf"\b{re.escape(fig.split()[1])}\b", out):
                continue  # prose about the example ("the best 3 shown"), not a count the command prints
            assert fig in out, f"{doc}: `{cmd}` states {fig!r}, its output does not: {out[-1500:]}"
        ran += 1
    if not ran:
        pytest.skip(f"{skipped} examples marked '# needs:'")


def test_every_example_is_found_and_markers_say_what():
    found = examples()
    assert sum(len(x[2]) for x in found) >= 20
    for doc, line, lines in found:
        for cmd, comment in lines:
            m = re.search(r"needs:\s*([^#]*)", comment)
            assert m is None or m.group(1).strip(), f"{doc}:{line}: `{cmd}`: '# needs:' must say what it needs"


def test_known_examples_are_still_there_unmarked():
    current = {(doc, c) for doc, _, lines in examples() for c, comment in lines if not _marked(comment)}
    stale = sorted(k for k in KNOWN if k not in current)
    assert not stale, f"fixed or marked in the docs, remove from KNOWN: {stale}"
