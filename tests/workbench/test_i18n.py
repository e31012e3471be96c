"""Norwegian (Bokmål) from the first page: every message translated, the compiled catalogue current."""

from __future__ import annotations

import gettext
import shutil
import subprocess
from pathlib import Path

import pytest

PO = Path(__file__).resolve().parents[2] / "cloud" / "workbench" / "locale" / "nb" / "LC_MESSAGES" / "django.po"


def _msgfmt():
    exe = shutil.which("msgfmt")
    if exe is None:
        pytest.fail("msgfmt (GNU gettext) is missing: run scripts/setup.sh (apt-get install gettext)")
    return exe


def test_every_message_is_translated(tmp_path):
    r = subprocess.run([_msgfmt(), "--check-format", "--statistics", "-o", str(tmp_path / "x.mo"), str(PO)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "untranslated" not in r.stderr and "fuzzy" not in r.stderr, r.stderr


def test_the_compiled_catalogue_is_current(tmp_path):
    subprocess.run([_msgfmt(), "-o", str(tmp_path / "fresh.mo"), str(PO)], check=True)
    with open(tmp_path / "fresh.mo", "rb") as fresh, open(PO.with_suffix(".mo"), "rb") as shipped:
        assert gettext.GNUTranslations(shipped)._catalog == gettext.GNUTranslations(fresh)._catalog, (
            "run: msgfmt -o cloud/workbench/locale/nb/LC_MESSAGES/django.mo cloud/workbench/locale/nb/LC_MESSAGES/django.po")
