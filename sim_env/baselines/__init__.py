"""Baseline strategies for the evaluation harness: random, rules, MPC and the optimum."""

from __future__ import annotations

from typing import Any

STRATEGIES = ("random", "rule", "mpc", "optimum")


def make_strategy(name: str, **kwargs: Any):
    """A baseline strategy by name (``random``, ``rule``, ``mpc``, ``optimum``)."""
    if name == "random":
        from .random import RandomStrategy

        return RandomStrategy(**kwargs)
    if name == "rule":
        from .rule import RuleStrategy

        return RuleStrategy(**kwargs)
    if name == "mpc":
        from .mpc import MpcStrategy

        return MpcStrategy(**kwargs)
    if name == "optimum":
        from .optimum import OptimumStrategy

        return OptimumStrategy(**kwargs)
    raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


__all__ = ["STRATEGIES", "make_strategy"]
