"""Shared fixtures of the twin tests: the shipped park as its v1 description."""

from __future__ import annotations

import pytest

from aisym.park import load_park


@pytest.fixture(scope="session")
def park():
    return load_park()
