"""Every input of ``aisym demo`` checked before any service starts (issue 18, finding 14).

A policy of another park used to fail with a traceback after Mosquitto, InfluxDB and the plant
had started. :func:`check_inputs` runs on the plant as built (its devices known, nothing
listening yet) and raises :class:`DemoInputError` with one line naming the option at fault.
"""

from __future__ import annotations

import math
from pathlib import Path

try:  # the click the aisym app runs on (typer >= 0.22 carries its own copy)
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer on plain click
    from click.exceptions import UsageError  # type: ignore[no-redef,assignment]

MAX_SPEED = 1e6  # the gateway's setpoints.time_scale limit (edge/gateway/config.py)


class DemoInputError(UsageError, ValueError):
    """A user input of the demo is wrong: one line naming the option. A usage error to the ``aisym``
    app (one line on stderr, exit 2, as for a wrong option), a ValueError to Python callers."""

    def __str__(self) -> str:
        return self.message


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def check_inputs(cfg, strategy: str, plant, steps: int) -> None:
    """Check ``cfg`` (a :class:`~cloud.demo.run.DemoConfig`) and the ``strategy`` spec against
    ``plant`` (built, not serving); ``steps``: the run's steps."""
    for opt, v, lo, hi in (("--hours", cfg.hours, 0.0, math.inf), ("--speed", cfg.speed, 0.0, MAX_SPEED)):
        if not (isinstance(v, int | float) and math.isfinite(v) and lo < v <= hi):
            raise DemoInputError(f"{opt} {v}: must be more than {lo:g}" + ("" if hi == math.inf else f" and at most {hi:g}"))
    if not 0 <= cfg.start < 8760:
        raise DemoInputError(f"--start {cfg.start}: the first hour of the year, 0 to 8759")
    if cfg.poll_s is not None and not (math.isfinite(cfg.poll_s) and cfg.poll_s > 0):
        raise DemoInputError(f"poll_s {cfg.poll_s}: must be more than 0 wall seconds")
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise DemoInputError(f"--out {out}: exists and is not a folder")
    _check_faults(cfg.faults, plant, steps)
    check_strategy(strategy, plant)


def _check_faults(faults, plant, steps: int) -> None:
    from sim_env.plant.modbus import FAULTS

    devices = plant.layout.names()
    for f in faults:
        spec = f"--fault {f.at}:{f.what}:{f.steps}"
        if f.at < 0 or f.steps < 1:
            raise DemoInputError(f"{spec}: the step must be 0 or more and the fault last 1 step or more")
        if f.at >= steps:
            raise DemoInputError(f"{spec}: step {f.at} is not within the run's {steps} steps (--hours)")
        if f.what.startswith("device="):
            dev, mode = f.what.split("=", 1)[1].split(":", 1)
            if dev not in devices:
                raise DemoInputError(f"{spec}: no plant device {dev!r}; devices: {', '.join(devices)}")
            if mode not in FAULTS or mode == "ok":
                raise DemoInputError(f"{spec}: mode {mode!r}; use {', '.join(m for m in FAULTS if m != 'ok')}")


def check_strategy(spec: str, plant) -> None:
    """Build the controller's strategy and reset it on the plant's park, as the controller will:
    a policy of another park (another layout) is refused here, not after the services started."""
    from cloud.controller.controller import make_strategy
    from sim_env.graph.evaluate import GraphEnvInfo

    tw = plant.twin
    try:
        strategy = make_strategy(spec, plant.cp.graph.id)
        info = GraphEnvInfo(plant.cp, tw, tw.batch.coef, tw.series, 0, 0, 8760 * 10, tw.dt_h, tw.horizon,
                            list(tw.observation_names), list(tw.action_names), list(tw.kpi_names), tw.S[0].copy(),
                            tw.batch.mask[0].copy())
        strategy.reset(info)
    except (ValueError, OSError, ImportError, AttributeError, KeyError) as e:
        raise DemoInputError(f"--strategy {spec}: {_one_line(e)}") from None
