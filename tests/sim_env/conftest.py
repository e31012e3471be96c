"""Shared fixtures of the twin tests: the shipped park, its parameters and one generated year."""

from __future__ import annotations

import numpy as np
import pytest

from aisym.park import load_park
from sim_env import exogenous
from sim_env.params import park_params


@pytest.fixture(scope="session")
def park():
    return load_park()


@pytest.fixture(scope="session")
def p(park) -> np.ndarray:
    return park_params(park)


@pytest.fixture(scope="session")
def exo(park) -> np.ndarray:
    return exogenous.generate(park, seed=0)
