"""The run folder ``aisym demo`` writes: ``run.json``, ``plant.jsonl``, ``controller.jsonl`` (and ``offline.json``).

``run.json`` holds the run's settings and counters (park, strategy, hours, completeness, setpoints,
blind steps, faults); ``plant.jsonl`` one line per plant step (the setpoints applied, the actions,
the twin's outputs ``y`` in ``kpi_names`` order, the store levels ``S`` in ``stores`` order);
``controller.jsonl`` one line per controller step (what it commanded, and whether it was blind).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RUN_FILE, PLANT_FILE, CONTROLLER_FILE, OFFLINE_FILE = "run.json", "plant.jsonl", "controller.jsonl", "offline.json"
REQUIRED = ("park", "strategy", "hours", "start", "exo_seed", "dt_h", "kpi_names", "stores")


@dataclass
class Run:
    """One run folder, read."""

    folder: Path
    meta: dict
    plant: list[dict] = field(default_factory=list)
    controller: list[dict] = field(default_factory=list)


def write_run(out: Path, meta: dict, plant: list[dict], controller: list[dict]) -> None:
    """Write the three files of a run folder."""
    (out / RUN_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    for name, rows in ((PLANT_FILE, plant), (CONTROLLER_FILE, controller)):
        with open(out / name, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")


def load_run(folder: str | Path, records: bool = True) -> Run:
    """Read a run folder; a missing file or field is named with the file it belongs in.

    :param folder: the run folder
    :param records: also read ``plant.jsonl`` and ``controller.jsonl`` (a missing controller log reads as empty)
    """
    folder = Path(folder)
    path = folder / RUN_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no run.json (is {folder} a run folder of `aisym demo`?)")
    meta = json.loads(path.read_text(encoding="utf-8"))
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise ValueError(f"{path}: missing {', '.join(missing)}")
    run = Run(folder, meta)
    if records:
        run.plant = _jsonl(folder / PLANT_FILE, required=True)
        run.controller = _jsonl(folder / CONTROLLER_FILE, required=False)
        width = len(meta["kpi_names"])
        for i, rec in enumerate(run.plant, 1):
            if len(rec.get("y", ())) != width:
                raise ValueError(f"{folder / PLANT_FILE}:{i}: y has {len(rec.get('y', ()))} values, "
                                 f"run.json kpi_names {width}")
    return run


def _jsonl(path: Path, required: bool) -> list[dict]:
    if not path.exists():
        if required:
            raise FileNotFoundError(f"{path}: missing (the plant's step log)")
        return []
    rows = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{i}: not JSON ({e.msg})") from None
    return rows


def loop_matrix(run: Run) -> np.ndarray:
    """The plant's outputs, steps × ``kpi_names``."""
    return np.array([rec["y"] for rec in run.plant], dtype=np.float64).reshape(len(run.plant), -1)


def loop_series(run: Run) -> dict[str, np.ndarray]:
    """The loop's per-step cost, CO2 (kg) and objective, from the plant's outputs ``y``."""
    names = run.meta["kpi_names"]
    Y = loop_matrix(run)
    col = {n: i for i, n in enumerate(names)}
    for n in ("cost", "co2_kg", "reward"):
        if n not in col:
            raise ValueError(f"{run.folder / RUN_FILE}: kpi_names has no {n!r}")
    return {"cost": Y[:, col["cost"]], "co2_kg": Y[:, col["co2_kg"]], "objective": -Y[:, col["reward"]]}
