"""``aisym train``, ``aisym bench`` and ``aisym export``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()
err = Console(stderr=True)
KRAAKOYA_SCENARIOS = ["base", "cold_winter", "volatile_prices", "digester_outage"]


def _fail(message: str) -> None:
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)  # one line, however long
    raise typer.Exit(2)


def _park_fail(e: Exception) -> None:
    """A park file that does not load: its own lines (``file:line:col: field: why``), exit 2."""
    err.print(str(e).rstrip(), markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def train_cmd(
    algo: str = typer.Option("ppo", help="ppo or sac."),
    env: str = typer.Option("aisym/Park-v1", help="aisym/Park-v1: any park's compiled twin."),
    park: Path = typer.Option(None, help="Park file (v1 or v2; default: Kråkøya)."),
    hyperparams: Path = typer.Option(None, help="Zoo-style YAML (default: sim_env/hyperparams/<algo>.yml)."),
    out: Path = typer.Option(Path("runs/ppo"), help="Run folder: an interrupted run there is resumed, a finished one "
                                                    "continued only to a larger --timesteps."),
    seed: int = typer.Option(0, help="Seeds SB3, torch and the env: the same seed gives the same run."),
    timesteps: int = typer.Option(None, help="Override n_timesteps."),
    n_envs: int = typer.Option(None, help="Override n_envs (parks stepped together)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
    force: bool = typer.Option(False, "--force", help="Train a finished run's folder again from scratch (its model, "
                                                      "checkpoints and evaluations are deleted first)."),
    kernel: str = typer.Option(None, "--kernel", help="'fold' (a kernel generated for the park: "
                               "about 8x faster, its first compile takes 1-3 min) or 'generic' (starts at once)."),
) -> None:
    """Train a scheduling agent on the batched park twin (resumes an interrupted run, never overwrites a finished one)."""
    from aisym.park import ParkError

    from .config import ConfigError, load_config, set_kernel, set_park
    from .train import ENV_FACTORIES, RunExists, train

    if env == "aisym/Park-v0":
        _fail("--env aisym/Park-v0: the hand-written Kråkøya twin was retired (issue 22); use aisym/Park-v1")
    if env not in ENV_FACTORIES:
        _fail(f"--env {env!r}: use one of {', '.join(ENV_FACTORIES)}")
    overrides = {k: v for k, v in (("n_timesteps", timesteps), ("n_envs", n_envs)) if v is not None}
    try:
        cfg = load_config(algo, env_id=env, path=hyperparams, overrides=overrides)
        if park is not None:
            set_park(cfg, park)
        if kernel is not None:
            set_kernel(cfg, kernel)
    except (ConfigError, FileNotFoundError) as e:
        _fail(str(e))
    except ParkError as e:
        _park_fail(e)
    try:
        result = train(cfg, out, seed=seed, progress_bar=progress, force=force)
    except RunExists as e:
        _fail(str(e))
    how = f"resumed at {result.resumed_from:,} steps" if result.resumed_from else "new run"
    console.print(
        f"trained {cfg.algo.upper()} to {result.num_timesteps:,} steps ({how}); model in {out / 'model.zip'}; "
        f"TensorBoard: tensorboard --logdir {out / 'tb'}"
    )


def export_cmd(
    run: Path = typer.Argument(..., help="Run folder written by 'aisym train'."),
    out: Path = typer.Option(None, help="Export folder (default: RUN/export)."),
) -> None:
    """Export a trained policy to ONNX with its normalisation and layout (runs with onnxruntime only)."""
    import yaml

    from .export import export_graph_run

    config = run / "config.yml"
    if not config.exists():
        _fail(f"{run}: no config.yml (not a run folder written by 'aisym train')")
    env_id = yaml.safe_load(config.read_text()).get("env_id")
    if env_id != "aisym/Park-v1":  # aisym/Park-v0, the hand-written twin, was retired (issue 22)
        _fail(f"{config}: env_id: {env_id!r} is no longer a twin; retrain on aisym/Park-v1")
    try:
        folder = export_graph_run(run, out)
    except FileNotFoundError as e:
        _fail(str(e))
    console.print(f"wrote {folder / 'policy.onnx'} and {folder / 'policy.json'} (park layout fingerprint inside)")


def bench_cmd(
    strategy: list[str] = typer.Option(
        ["random", "rule", "mpc", "mpc_perfect", "mpc_learned"],
        help="random|rule|mpc|mpc_perfect|mpc_learned (MPC on synthetic, perfect or learned forecasts), "
        "module:Class, or NAME=RUN_OR_EXPORT_FOLDER (repeat); the optimum always runs.",
    ),
    scenario: list[str] = typer.Option(
        KRAAKOYA_SCENARIOS, help="base, a shipped scenario name, a what-if or park file (repeat; default for another "
                                 "--park: base and its <park>_whatif/ files)."
    ),
    seeds: int = typer.Option(3, help="Held-out weather/price years per scenario."),
    hours: float = typer.Option(8760.0, help="Hours per run (a year: 8760)."),
    out: Path = typer.Option(Path("runs/leaderboard"), help="Folder for CSV, Markdown and PNG."),
    park: Path = typer.Option(None, help="Any park (v1 or v2; default: Kråkøya) on the compiled twin."),
) -> None:
    """Rank strategies × scenarios × held-out years with optimality gaps; writes CSV, Markdown and a PNG."""
    from aisym.park import DEFAULT_PARK, ParkError
    from aisym.park.graph import load_graph
    from sim_env.graph.bench import bench_any_park, resolve_graph_scenario, resolve_graph_strategy

    from .envs import BENCH_SEEDS

    if not 1 <= seeds <= len(BENCH_SEEDS):
        _fail(f"--seeds must be 1..{len(BENCH_SEEDS)} (held-out years {BENCH_SEEDS})")
    # Kråkøya's default scenarios are four of its what-ifs, by name (aisym/parks/kraakoya_whatif/); another
    # park's default is every what-if of its own <park>_whatif/
    specs = list(scenario) if park is None or scenario != KRAAKOYA_SCENARIOS else None
    park = park if park is not None else DEFAULT_PARK
    try:
        load_graph(park)  # a missing or bad park file: its own lines, before anything runs
        for s in strategy:
            resolve_graph_strategy(s) if s != "optimum" else None
        for s in specs or []:
            resolve_graph_scenario(s, park)
    except ParkError as e:
        _park_fail(e)
    except (ValueError, FileNotFoundError) as e:
        _fail(str(e))
    try:
        files = bench_any_park(park, list(strategy), specs, BENCH_SEEDS[:seeds], hours, out, console)
    except ValueError as e:  # a policy that fits none of the scenarios, refused before the first run
        _fail(str(e))
    console.print("wrote " + ", ".join(str(p) for p in files.values()))


def register(app: typer.Typer) -> None:
    app.command("train")(train_cmd)
    app.command("export")(export_cmd)
    app.command("bench")(bench_cmd)
