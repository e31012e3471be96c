"""The park in the loop: how fast it runs with 100 % of the readings in InfluxDB, and its rate
against the ingest benchmark's end-to-end rate, side by side in one run.

For each speed (simulated seconds per wall second) a ``--hours`` run of ``aisym demo`` (no report)
measures wall time, completeness (the gateway's seqs found in InfluxDB) and setpoints applied;
then a simulated week at the fastest speed that kept 100 % completeness; then
``bench_ingest.py``'s end-to-end rate on the same machine, and the loop's readings/s as a ratio of it.

    .venv/bin/python benchmarks/bench_loop.py [--park FILE] [--speeds 3600,7200,14400] [--hours 48]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cloud.demo.run import DemoConfig, run_demo

ROOT = Path(__file__).resolve().parents[1]


def one(park, speed: float, hours: float, folder: Path) -> dict:
    demo = run_demo(DemoConfig(park=park, out=folder, hours=hours, speed=speed, strategy="rule", report=False),
                    progress=False)
    run = json.loads((demo.out / "run.json").read_text())
    c, sp = run["completeness"], run["setpoints"]
    return {"speed": speed, "hours": hours, "wall_s": run["wall_s"], "ratio": c.get("ratio", 0.0),
            "points": c.get("points_in_influx", 0), "readings_per_s": c.get("points_in_influx", 0) / run["wall_s"],
            "applied": sp["applied"], "sent": sp.get("sent", 0), "rejected": sp["rejected"], "blind": run["blind_steps"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--park", default=None)
    ap.add_argument("--speeds", default="3600,7200,14400")
    ap.add_argument("--hours", type=float, default=48.0)
    ap.add_argument("--no-week", action="store_true")
    args = ap.parse_args()
    console = Console()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for s in (float(x) for x in args.speeds.split(",")):
            rows.append(one(args.park, s, args.hours, Path(tmp) / f"s{int(s)}"))
        ok = [r for r in rows if r["ratio"] == 1.0]
        if ok and not args.no_week:
            rows.append(one(args.park, max(r["speed"] for r in ok), 168.0, Path(tmp) / "week"))
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_ingest.py"), "--messages", "1000",
                          "--sustain-s", "0"], capture_output=True, text=True, timeout=900)
    m = re.search(r"end-to-end pub -> ingest -> Influx:\s+([\d.]+) readings/s", out.stdout)
    e2e = float(m.group(1)) if m else float("nan")
    t = Table(title=f"the loop on {args.park or 'aisym/parks/kraakoya.yaml'}")
    for col in ("speed ×", "simulated h", "wall s", "completeness", "setpoints applied", "blind steps", "readings/s",
                "readings/s ÷ ingest e2e"):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(f"{r['speed']:,.0f}", f"{r['hours']:g}", f"{r['wall_s']:.1f}", f"{100 * r['ratio']:.2f} %",
                  f"{r['applied']} / {r['sent']}", str(r["blind"]), f"{r['readings_per_s']:,.0f}",
                  f"{r['readings_per_s'] / e2e:.4f}")
    console.print(t)
    console.print(f"ingest benchmark end-to-end: {e2e:,.0f} readings/s")


if __name__ == "__main__":
    main()
