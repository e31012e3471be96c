"""CPython tools for the MicroPython sensor node: build its config.json and deploy the firmware.

The firmware itself lives in ``edge/firmware`` (MicroPython sources, shipped as package data).
"""

from .build import FIRMWARE_DIR, NodeSpec, build_config, load_node

__all__ = ["FIRMWARE_DIR", "NodeSpec", "build_config", "load_node"]
