"""Speed of the twin compiled from the park graph, side by side with the hand-written kernel.

    python benchmarks/bench_graph.py [--no-cold] [--big] [--steps N] [--ops]

Prints, in one run: park-steps/s of compiled Kråkøya through the generic kernel
(sim_env/graph/kernel.py) and the specialised step functions (sim_env/graph/codegen.py, levels
"tables" and "fold") at K = 64 and 1024, the retired hand-written Kråkøya kernel kept as the
yardstick (benchmarks/kraakoya_yardstick/) and the ratios; 64 different topologies (random edge
masks) against 64 copies of one; the generic kernel serially and on the machine's threads
(``Batch(parallel=True)``, per wall second); the time to compile a park into arrays; and the Numba compile
time with a cold cache (fresh processes, empty cache folders) and a warm one. It also checks that
each fast path gave the generic kernel's outputs bit for bit on the steps it timed.

Rates are work per second of this process's CPU time (``time.process_time``; every kernel here runs
serially), so a machine shared with other jobs slows them less than the wall clock would; the
1-minute load average is printed beside each table, and the ratios, measured side by side in one
run, are the figures to compare across runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LEVELS = (None, "tables", "fold")


def _label(level: str | None) -> str:
    return "generic" if level is None else f"codegen:{level}"


def _best_rate(fn, work: int, repeat: int = 5) -> float:
    """Work per CPU second of the fastest of ``repeat`` timed calls (the machine is shared)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return work / best


def _run_batch(batch, A: np.ndarray) -> None:
    for a in A:
        batch.step(a)


def bench_compiled(cp, coef, K: int, steps: int, masks: np.ndarray | None = None) -> dict:
    """M park-steps/s of each level on the same actions; and whether every level matched the generic one."""
    from sim_env.graph.kernel import Batch

    A = np.random.default_rng(0).random((steps, K, cp.n_actions))
    out, ys = {}, {}
    for level in LEVELS:
        b = Batch(cp, coef, K, masks, specialise=level)
        b.step(A[0])
        out[_label(level)] = _best_rate(lambda b=b: _run_batch(b, A), steps * K) / 1e6
        ref = Batch(cp, coef, K, masks, specialise=level)
        _run_batch(ref, A)
        ys[level] = ref.Y.copy(), ref.S.copy()
    out["identical"] = all(np.array_equal(ys[lv][0], ys[None][0]) and np.array_equal(ys[lv][1], ys[None][1])
                           for lv in LEVELS)
    return out


def bench_threads(cp, coef, K: int, steps: int) -> dict:
    """M park-steps per wall second of the generic kernel run serially and with its blocks of rows
    over threads (the goal's "on 2 cores"), and whether both gave the same outputs."""
    from sim_env.graph.kernel import Batch

    A = np.random.default_rng(0).random((steps, K, cp.n_actions))
    out, ys = {}, {}
    for name, parallel in (("serial", False), ("threads", True)):
        b = Batch(cp, coef, K, parallel=parallel)
        b.step(A[0])
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            _run_batch(b, A)
            best = min(best, time.perf_counter() - t0)
        out[name] = steps * K / best / 1e6
        ref = Batch(cp, coef, K, parallel=parallel)
        _run_batch(ref, A)
        ys[name] = ref.Y.copy()
    out["identical"] = bool(np.array_equal(ys["serial"], ys["threads"]))
    return out


def bench_ops(cp, coef, K: int = 64, steps: int = 60) -> dict[str, float]:
    """Where the generic kernel's time goes: ns per park-step of the whole schedule, of the step's
    frame alone (no op), and what leaving out each kind of op saves. The schedule is data, so no
    compile; the outputs of a cut schedule are meaningless, only its time counts."""
    from sim_env.graph import compile as C
    from sim_env.graph.kernel import Batch

    A = np.random.default_rng(0).random((steps, K, cp.n_actions))
    ops = cp.OPS

    def ns(sched) -> float:
        cp.OPS = sched
        b = Batch(cp, coef, K)
        b.step(A[0])
        return 1e9 / _best_rate(lambda: _run_batch(b, A), steps * K, repeat=7)

    try:
        full = ns(ops)
        out = {"all ops": full, "frame (no op)": ns(ops[:0])}
        for kind in sorted(set(ops[:, 0].tolist())):
            out[f"- {C.OP_NAMES[kind % C.OP_IN_LOOP]} x{int((ops[:, 0] == kind).sum())}"] = full - ns(ops[ops[:, 0] != kind])
    finally:
        cp.OPS = ops
    return out


def bench_handwritten(K: int, steps: int) -> float:
    from benchmarks.kraakoya_yardstick.core import TwinBatch

    tw = TwinBatch(K, episode_hours=1e9, seed=0)
    tw.reset()
    A = np.random.default_rng(0).random((steps, K, 10))
    tw.step(A[0])
    return _best_rate(lambda: [tw.step(a) for a in A], steps * K) / 1e6


def bench_park_compile() -> dict[str, float]:
    import yaml

    from aisym.park.graph import load_graph, parse_graph
    from sim_env.graph.compile import compile_park
    from tests.core.test_park_graph import SMALL

    out = {}
    parks = (("kraakoya", load_graph()), ("kalundborg", load_graph(ROOT / "aisym" / "parks" / "kalundborg.yaml")),
             ("small", parse_graph(yaml.safe_dump(SMALL), "small.yaml")))
    for name, g in parks:
        t0 = time.perf_counter()
        compile_park(g)
        out[name] = time.perf_counter() - t0
    return out


_PROBE = """
import time, numpy as np
t0 = time.perf_counter()
from aisym.park.graph import load_graph
from sim_env.graph.compile import compile_park
from sim_env.graph.kernel import Batch
cp = compile_park(load_graph())
b = Batch(cp, cp.exogenous(seed=0), 2, specialise={level!r})
b.step(np.full((2, cp.n_actions), 0.5))
print(time.perf_counter() - t0, time.process_time())
"""


def bench_numba_compile(level: str | None, cold: bool, cache: Path) -> tuple[float, float]:
    """Seconds from import to the first step, in a fresh process (cold: empty cache folders):
    wall clock, and the process's CPU time (what an idle core would take)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if cold:
        env["NUMBA_CACHE_DIR"] = str(cache / "numba")
        env["AISYM_KERNEL_CACHE"] = str(cache / "kernels")
    out = subprocess.run([sys.executable, "-c", _PROBE.format(level=level)], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT)
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def bench_env(level: str | None) -> float:
    """Microseconds per ``env.step`` of one Kråkøya env made by ``gymnasium.make``."""
    import gymnasium as gym

    import sim_env  # noqa: F401 - registers the env

    env = gym.make("aisym/Park-v1", episode_hours=10**6, specialise=level)
    env.reset(seed=0)
    a = np.full(env.action_space.shape, 0.5, dtype=np.float32)
    for _ in range(100):
        env.step(a)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(2000):
            env.step(a)
        best = min(best, (time.perf_counter() - t) / 2000 * 1e6)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=100, help="timed steps per call (default 100)")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-cache compile (about 2.5 min)")
    ap.add_argument("--ops", action="store_true", help="also where the generic kernel's time goes, per kind of op")
    ap.add_argument("--big", action="store_true",
                    help="also the Kalundborg-like park (17 companies, 38 exchanges; ~3.5 min cold compile)")
    args = ap.parse_args()

    from aisym.park.graph import load_graph
    from sim_env.graph.compile import compile_park

    cp = compile_park(load_graph())
    coef = cp.exogenous(seed=0)
    print(f"compiled Kråkøya, M park-steps per CPU second (serial, best of 5; load {os.getloadavg()[0]:.1f})")
    print(f"{'K':>6} {'generic':>9} {'tables':>9} {'fold':>9} {'hand':>9} {'fold/hand':>10} {'generic/hand':>13} "
          f"{'generic/fold':>13} identical")
    for K in (64, 1024):
        steps = args.steps if K == 64 else max(10, args.steps // 8)
        r = bench_compiled(cp, coef, K, steps)
        hand = bench_handwritten(K, steps)
        print(f"{K:>6} {r['generic']:9.3f} {r['codegen:tables']:9.3f} {r['codegen:fold']:9.3f} {hand:9.3f} "
              f"{r['codegen:fold'] / hand:10.2f} {r['generic'] / hand:13.2f} {r['generic'] / r['codegen:fold']:13.2f} "
              f"{r['identical']}")

    print(f"\nthe generic kernel on {numba.config.NUMBA_NUM_THREADS} threads (Batch(parallel=True): its blocks of rows "
          f"spread by prange), Kråkøya, M park-steps per wall second (load {os.getloadavg()[0]:.1f})")
    for K in (256, 1024):
        # at least 25,600 park-steps a timing (~40 ms on one core): 25 steps at K = 256 were 8 ms, so the
        # threads' start-up and the clock's jitter read as a ratio of 1.16 where a longer run gives 1.86
        r = bench_threads(cp, coef, K, max(10, args.steps // 4, 25_600 // K))
        print(f"  K={K:<5d} serial {r['serial']:6.3f}  threads {r['threads']:6.3f}  ratio {r['threads'] / r['serial']:5.2f}"
              f"  identical {r['identical']}")

    if args.ops:
        print(f"\ngeneric kernel, K=64, ns per park-step: all ops, the frame alone, saved without each kind "
              f"(load {os.getloadavg()[0]:.1f})")
        for key, v in bench_ops(cp, coef).items():
            print(f"  {key:24s} {v:7.0f}")

    print(f"\n64 topologies (random edge masks) vs 64 copies of one, M park-steps/s (load {os.getloadavg()[0]:.1f})")
    rng = np.random.default_rng(5)
    masks = np.tile(cp.LE, (64, 1)) * (rng.random((64, len(cp.link_ids))) < 0.7)
    same = bench_compiled(cp, coef, 64, args.steps)
    diff = bench_compiled(cp, coef, 64, args.steps, masks)
    for key in ("generic", "codegen:tables", "codegen:fold"):
        print(f"  {key:15s} copies {same[key]:7.3f}  topologies {diff[key]:7.3f}  ratio {diff[key] / same[key]:5.2f}")
    print(f"  identical to the generic kernel: {same['identical'] and diff['identical']}")

    if args.big:
        big = compile_park(load_graph(ROOT / "aisym" / "parks" / "kalundborg.yaml"))
        print(f"\nKalundborg-like park, M park-steps per CPU second (load {os.getloadavg()[0]:.1f})")
        print(f"{'K':>6} {'generic':>9} {'tables':>9} {'fold':>9} {'generic/fold':>13} identical")
        for K in (64, 1024):
            r = bench_compiled(big, big.exogenous(seed=0), K, args.steps if K == 64 else max(10, args.steps // 8))
            print(f"{K:>6} {r['generic']:9.3f} {r['codegen:tables']:9.3f} {r['codegen:fold']:9.3f} "
                  f"{r['generic'] / r['codegen:fold']:13.2f} {r['identical']}")

    print("\nsingle env through gymnasium.make('aisym/Park-v1'), us per step (best of 5 x 2,000)")
    for level in (None, "fold"):
        print(f"  {_label(level):15s} {bench_env(level):7.1f}")

    print("\npark -> arrays (compile_park), s")
    for name, s in bench_park_compile().items():
        print(f"  {name:10s} {s:.4f}")

    print(f"\nNumba compile, import to first step of compiled Kråkøya, s (fresh process, wall / CPU; "
          f"load {os.getloadavg()[0]:.1f})")
    with tempfile.TemporaryDirectory() as tmp:
        for level in LEVELS:
            cold = (float("nan"),) * 2 if args.no_cold else bench_numba_compile(level, True, Path(tmp) / str(level))
            bench_numba_compile(level, False, Path(tmp))  # make sure the default cache is warm
            warm = bench_numba_compile(level, False, Path(tmp))
            print(f"  {_label(level):15s} cold {cold[0]:7.1f} / {cold[1]:6.1f}  warm {warm[0]:6.2f} / {warm[1]:5.2f}")


if __name__ == "__main__":
    main()
