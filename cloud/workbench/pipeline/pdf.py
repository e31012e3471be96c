"""The action plan printed to PDF by headless Chromium (Debian's ``chromium``).

The server renders the plan's HTML for the viewer's own session first, and Chromium prints that
file: the browser never asks the server for anything, so nothing the viewer may not read can get
into the PDF. The page carries its CSS inline (print rules, page breaks, page numbers in the margin).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

TIMEOUT_S = 90
# one print at a time: each Chromium takes ~150 MB and a core; two at once only queue on 2 cores
_lock = threading.Lock()
_cache: OrderedDict[str, bytes] = OrderedDict()  # by the HTML's hash: the same page prints the same PDF
_CACHE_SIZE = 16


class PrintFailed(RuntimeError):
    pass


def chromium() -> str | None:
    found = os.environ.get("AISYM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return found if found and Path(found).exists() else None


def print_pdf(html: str) -> bytes:
    """The PDF of ``html`` (a self-contained page), printed by headless Chromium.

    :raises PrintFailed: no Chromium here, or it did not print (with its last words)
    """
    digest = hashlib.sha256(html.encode("utf-8")).hexdigest()
    with _lock:
        if digest in _cache:
            _cache.move_to_end(digest)
            return _cache[digest]
        exe = chromium()
        if exe is None:
            raise PrintFailed("Chromium is not installed (apt-get install chromium, or set AISYM_CHROMIUM)")
        with tempfile.TemporaryDirectory(prefix="aisym-plan-") as tmp:
            page, out = Path(tmp) / "plan.html", Path(tmp) / "plan.pdf"
            page.write_text(html, encoding="utf-8")
            cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", f"--user-data-dir={tmp}/profile",
                   "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw", f"--print-to-pdf={out}",
                   page.as_uri()]
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise PrintFailed(f"Chromium did not print within {TIMEOUT_S} s") from None
            if not out.exists() or out.stat().st_size == 0:
                last = (r.stderr.strip().splitlines() or ["no output"])[-1]
                raise PrintFailed(f"Chromium printed no PDF (exit {r.returncode}): {last[:200]}")
            pdf = out.read_bytes()
        _cache[digest] = pdf
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        return pdf
