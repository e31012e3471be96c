"""Headless Chromium on a report: the DOM after plotly ran, and a screenshot (Debian's ``chromium`` package).

The report's plots are drawn by JavaScript, so only a browser shows whether they rendered:
:func:`render` loads the page once with ``--dump-dom`` and ``--screenshot`` together and returns
the DOM; plotly draws each plot as ``<svg class="main-svg">`` inside its ``div``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome")


def chromium() -> str | None:
    """Path of a Chromium binary on ``PATH``, or None."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def render(page: str | Path, png: str | Path | None = None, width: int = 1300, height: int = 4400,
           timeout_s: float = 60.0, tries: int = 2) -> str:
    """Load ``page`` in headless Chromium; return its DOM after the scripts ran, and write a screenshot.

    :param page: an HTML file
    :param png: where to write the screenshot (None: none)
    :param width: window width (px)
    :param height: window height (px): the screenshot shows this much of the page
    :param timeout_s: give up on one try after this long (the browser is killed)
    :param tries: tries before giving up: a headless Chromium on a loaded machine now and then never
        finishes its virtual time, and a fresh one does (a page that fails to draw fails every try)
    """
    if tries < 1:
        raise ValueError(f"tries must be at least 1, got {tries}")
    binary = chromium()
    if binary is None:
        raise RuntimeError("no Chromium on PATH: apt-get install chromium (Debian's package)")
    for _ in range(tries - 1):
        try:
            return _render_once(binary, page, png, width, height, timeout_s)
        except TimeoutError:
            continue
    try:
        return _render_once(binary, page, png, width, height, timeout_s)
    except TimeoutError:
        raise RuntimeError(f"chromium did not finish {page} in {timeout_s:g} s, {tries} tries") from None


def _render_once(binary: str, page: str | Path, png: str | Path | None, width: int, height: int,
                 timeout_s: float) -> str:
    url = Path(page).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="aisym-chromium-") as profile:
        cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
               f"--user-data-dir={profile}", f"--window-size={width},{height}", "--hide-scrollbars",
               "--virtual-time-budget=3000", "--dump-dom"]
        if png is not None:
            cmd.append(f"--screenshot={Path(png).resolve()}")
        # its own process group, so that a hung browser is killed with its renderers
        proc = subprocess.Popen([*cmd, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise TimeoutError(page) from None
    if proc.returncode != 0 or "<html" not in out:
        raise RuntimeError(f"chromium failed on {page} (exit {proc.returncode}): {err.strip()[-600:]}")
    return out
