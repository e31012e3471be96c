"""Norwegian (Bokmål) from the first page: every message translated, the compiled catalogue current."""

from __future__ import annotations

import gettext
import shutil
import subprocess
from pathlib import Path

import pytest

WORKBENCH = Path(__file__).resolve().parents[2] / "cloud" / "workbench"
PO = WORKBENCH / "locale" / "nb" / "LC_MESSAGES" / "django.po"
# each app of part 2 keeps its own catalogue (cloud/workbench/<app>/locale/nb/LC_MESSAGES/django.po)
CATALOGUES = [PO, *sorted(WORKBENCH.glob("*/locale/nb/LC_MESSAGES/django.po"))]
IDS = [str(p.relative_to(WORKBENCH)) for p in CATALOGUES]


def _msgfmt():
    exe = shutil.which("msgfmt")
    if exe is None:
        pytest.fail("msgfmt (GNU gettext) is missing: run scripts/setup.sh (apt-get install gettext)")
    return exe


@pytest.mark.parametrize("po", CATALOGUES, ids=IDS)
def test_every_message_is_translated(tmp_path, po):
    r = subprocess.run([_msgfmt(), "--check-format", "--statistics", "-o", str(tmp_path / "x.mo"), str(po)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "untranslated" not in r.stderr and "fuzzy" not in r.stderr, r.stderr


@pytest.mark.parametrize("po", CATALOGUES, ids=IDS)
def test_the_compiled_catalogue_is_current(tmp_path, po):
    subprocess.run([_msgfmt(), "-o", str(tmp_path / "fresh.mo"), str(po)], check=True)
    with open(tmp_path / "fresh.mo", "rb") as fresh, open(po.with_suffix(".mo"), "rb") as shipped:
        assert gettext.GNUTranslations(shipped)._catalog == gettext.GNUTranslations(fresh)._catalog, (
            f"run: msgfmt -o {po.with_suffix('.mo')} {po}")
