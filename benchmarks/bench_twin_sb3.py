"""Share of SB3 PPO training time spent in the park twin (target <= 5 %).

    python benchmarks/bench_twin_sb3.py [--timesteps 32768] [--n-envs 16]

Trains PPO (MlpPolicy, the zoo's Park-v0 n_steps/batch size) on ``ParkSB3VecEnv`` and times
``step_wait`` and ``reset`` (the env) against the whole ``learn`` call, side by side.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description="SB3 PPO env-time share")
    ap.add_argument("--timesteps", type=int, default=32768)
    ap.add_argument("--n-envs", type=int, default=16)
    args = ap.parse_args()

    import torch
    from stable_baselines3 import PPO

    from sim_env.sb3 import ParkSB3VecEnv

    torch.set_num_threads(2)

    class Timed(ParkSB3VecEnv):
        env_seconds = 0.0

        def step_wait(self):
            t0 = time.perf_counter()
            out = super().step_wait()
            Timed.env_seconds += time.perf_counter() - t0
            return out

        def reset(self):
            t0 = time.perf_counter()
            out = super().reset()
            Timed.env_seconds += time.perf_counter() - t0
            return out

    env = Timed(num_envs=args.n_envs, seed=0, episode_hours=168)
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=512, n_epochs=10, seed=0, device="cpu", verbose=0)
    Timed.env_seconds = 0.0
    t0 = time.perf_counter()
    model.learn(total_timesteps=args.timesteps)
    total = time.perf_counter() - t0
    steps = model.num_timesteps
    print(f"PPO {steps:,} env-steps ({args.n_envs} envs): learn {total:.1f} s = {steps / total:,.0f} steps/s")
    print(f"time in env {Timed.env_seconds:.2f} s = {100 * Timed.env_seconds / total:.2f} % of training (target <= 5 %)")
    print(
        f"env alone: {steps / Timed.env_seconds:,.0f} park-steps/s; learner+rollout overhead {total - Timed.env_seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
