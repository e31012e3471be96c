"""Gymnasium envs of the park twin."""

from .park import ParkEnv, ParkVectorEnv

__all__ = ["ParkEnv", "ParkVectorEnv"]
