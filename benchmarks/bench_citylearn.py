"""CityLearn 3.0.2 steps/s on the offline CityLearn 2022 dataset: the peer the twin's speed is compared with.

CityLearn lives in its own venv (default /tmp/aisym-citylearn-venv), never in the project's:
``pip install torch==2.13.0 citylearn==3.0.2`` (torch pinned in the same command, or pip pulls
a CUDA torch). If it cannot be installed, the script says so and exits 0.

    python benchmarks/bench_citylearn.py --dataset DIR [--steps 2000]

DIR is the ``citylearn_2022_phase_all_v3`` folder (schema.json + CSVs). The result is also
written to ``benchmarks/results/citylearn.json``, which ``bench_twin.py`` read for its ratios
(retired with the hand-written twin, issue 22).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

MEASURE = textwrap.dedent(
    """
    import json, sys, time, numpy as np
    from citylearn.citylearn import CityLearnEnv
    path, n, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    schema = json.load(open(path + "/schema.json")); schema["root_directory"] = path
    for i, b in enumerate(schema["buildings"]):
        schema["buildings"][b]["include"] = i < n
    env = CityLearnEnv(schema, central_agent=True, offline=True)
    env.reset()
    space = env.action_space[0]
    rng = np.random.default_rng(0)
    actions = rng.uniform(space.low, space.high, size=(steps, space.shape[0])).astype(space.dtype)
    t0 = time.perf_counter(); done = 0
    for i in range(steps):
        _, _, term, trunc, _ = env.step([actions[i]])
        done += 1
        if term or trunc:
            env.reset()
    dt = time.perf_counter() - t0
    print(json.dumps({"buildings": n, "steps": done, "seconds": dt, "steps_per_s": done / dt}))
    """
)


def ensure_venv(folder: Path) -> Path | None:
    python = folder / "bin" / "python"
    probe = [str(python), "-c", "import citylearn, sys; sys.exit(0 if citylearn.__version__ == '3.0.2' else 1)"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"installing citylearn==3.0.2 into {folder} (once) ...", flush=True)
    venv.create(folder, with_pip=True, clear=True)
    pip = [str(python), "-m", "pip", "install", "-q", "torch==2.13.0", "citylearn==3.0.2"]
    done = subprocess.run(pip, capture_output=True, text=True)
    if done.returncode != 0:
        print("CityLearn could not be installed; skipping.\n" + done.stderr[-2000:])
        return None
    return python


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", required=True, help="folder with schema.json of citylearn_2022_phase_all_v3")
    ap.add_argument("--venv", default="/tmp/aisym-citylearn-venv")
    ap.add_argument("--steps", type=int, default=2000, help="steps per measurement")
    ap.add_argument("--buildings", default="8,17")
    args = ap.parse_args()
    if not (Path(args.dataset) / "schema.json").exists():
        print(f"no schema.json in {args.dataset}; skipping")
        return 0
    python = ensure_venv(Path(args.venv))
    if python is None:
        return 0
    results = []
    for n in (int(b) for b in args.buildings.split(",")):
        run = subprocess.run(
            [str(python), "-c", MEASURE, args.dataset, str(n), str(args.steps)], capture_output=True, text=True
        )
        if run.returncode != 0:
            print(f"CityLearn run with {n} buildings failed; skipping.\n{run.stderr[-2000:]}")
            return 0
        res = json.loads(run.stdout.strip().splitlines()[-1])
        results.append(res)
        print(f"CityLearn 3.0.2, {n:2d} buildings, central agent: {res['steps_per_s']:8.1f} steps/s ({res['steps']} steps)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "citylearn.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
