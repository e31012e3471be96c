"""``aisym train``, ``aisym bench`` and ``aisym export``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)


def _fail(message: str) -> None:
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)  # one line, however long
    raise typer.Exit(2)


def _park_fail(e: Exception) -> None:
    """A park file that does not load: its own lines (``file:line:col: field: why``), exit 2."""
    err.print(str(e).rstrip(), markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def train_cmd(
    algo: str = typer.Option("ppo", help="ppo or sac."),
    env: str = typer.Option("aisym/Park-v0", help="aisym/Park-v0 (hand-written Kråkøya) or aisym/Park-v1 (any park)."),
    park: Path = typer.Option(None, help="Park file (v1 or v2) for aisym/Park-v1 (default: Kråkøya)."),
    hyperparams: Path = typer.Option(None, help="Zoo-style YAML (default: sim_env/hyperparams/<algo>.yml)."),
    out: Path = typer.Option(Path("runs/ppo"), help="Run folder: an interrupted run there is resumed, a finished one "
                                                    "continued only to a larger --timesteps."),
    seed: int = typer.Option(0, help="Seeds SB3, torch and the env: the same seed gives the same run."),
    timesteps: int = typer.Option(None, help="Override n_timesteps."),
    n_envs: int = typer.Option(None, help="Override n_envs (parks stepped together)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
    force: bool = typer.Option(False, "--force", help="Train a finished run's folder again from scratch (its model, "
                                                      "checkpoints and evaluations are deleted first)."),
    kernel: str = typer.Option(None, "--kernel", help="aisym/Park-v1: 'fold' (a kernel generated for the park: "
                               "about 8x faster, its first compile takes 1-3 min) or 'generic' (starts at once)."),
) -> None:
    """Train a scheduling agent on the batched park twin (resumes an interrupted run, never overwrites a finished one)."""
    from aisym.park import ParkError

    from .config import ConfigError, load_config, set_kernel, set_park
    from .train import ENV_FACTORIES, RunExists, train

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

    from sim_env.params import ACTION_NAMES

    from .export import export_graph_run, export_policy
    from .train import load_run

    try:
        model, vn = load_run(run)
    except FileNotFoundError as e:
        _fail(str(e))
    if yaml.safe_load((run / "config.yml").read_text()).get("env_id") == "aisym/Park-v1":
        folder = export_graph_run(run, out)
        console.print(f"wrote {folder / 'policy.onnx'} and {folder / 'policy.json'} (park layout fingerprint inside)")
        return
    folder = export_policy(
        model,
        out or run / "export",
        vn,
        action_names=list(ACTION_NAMES),
        extra={"env_id": "aisym/Park-v0", "run": run.name, **action_meta(run)},
    )
    console.print(f"wrote {folder / 'policy.onnx'} and {folder / 'policy.json'}")


def action_meta(run: Path) -> dict:
    """What the ONNX loader needs to turn the agent's output into park actions."""
    import yaml

    from sim_env.core import TwinBatch

    from .strategy import action_layout

    env_kwargs = yaml.safe_load((run / "config.yml").read_text())["hyperparams"].get("env_kwargs") or {}
    twin = TwinBatch(1, env_kwargs.get("park"), forecast_hours=env_kwargs.get("forecast_hours", 24.0))
    return {"agent_actions": action_layout(env_kwargs), "park_params": twin.P[0].tolist(), "horizon": twin.horizon}


def bench_cmd(
    strategy: list[str] = typer.Option(
        ["random", "rule", "mpc"],
        help="random|rule|mpc, module:Class, or NAME=RUN_OR_EXPORT_FOLDER (repeat); the optimum always runs.",
    ),
    scenario: list[str] = typer.Option(
        ["base", "cold_winter", "volatile_prices", "digester_outage"], help="Shipped scenario name or overlay YAML (repeat)."
    ),
    seeds: int = typer.Option(3, help="Held-out weather/price years per scenario."),
    hours: float = typer.Option(8760.0, help="Hours per run (a year: 8760)."),
    out: Path = typer.Option(Path("runs/leaderboard"), help="Folder for CSV, Markdown and PNG."),
    park: Path = typer.Option(None, help="Any park (v1 or v2) on the compiled twin; scenarios default to base and its "
                                         "shipped what-ifs."),
) -> None:
    """Rank strategies × scenarios × held-out years with optimality gaps; writes CSV, Markdown and a PNG."""
    from rich.progress import Progress

    from .envs import BENCH_SEEDS
    from .leaderboard import COMPARED_V0, rank, resolve_scenario, resolve_strategy, run_bench, summarize, write_outputs

    if not 1 <= seeds <= len(BENCH_SEEDS):
        _fail(f"--seeds must be 1..{len(BENCH_SEEDS)} (held-out years {BENCH_SEEDS})")
    if park is not None:
        from aisym.park import ParkError
        from aisym.park.graph import load_graph
        from sim_env.graph.bench import bench_any_park, resolve_graph_scenario, resolve_graph_strategy

        default = ["base", "cold_winter", "volatile_prices", "digester_outage"]
        specs = None if scenario == default else list(scenario)
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
        return
    try:
        for s in strategy:
            resolve_strategy(s) if s != "optimum" else None
        for s in scenario:
            resolve_scenario(s)
    except (ValueError, FileNotFoundError) as e:
        _fail(str(e))
    total = len(scenario) * seeds * (len(set(strategy) - {"optimum"}) + 1)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("leaderboard", total=total)

        def tick(what: str) -> None:
            bar.update(task, advance=1, description=what)

        runs = run_bench(strategy, scenario, BENCH_SEEDS[:seeds], hours=hours, progress=tick,
                         note=lambda what: bar.update(task, description=what))
    files = write_outputs(runs, out)
    table = Table(title=f"Leaderboard ({seeds} held-out years, {hours:g} h each)")
    for col in ("scenario", "strategy", "cost EUR", "stored EUR", "CO2 t", "unmet", "gap %"):
        name = col in ("scenario", "strategy")  # names stay whole on a narrow console; figures wrap
        table.add_column(col, justify="left" if name else "right", no_wrap=name)
    stored: dict[tuple[str, str], list[float]] = {}
    for run in runs:
        stored.setdefault((run.scenario, run.strategy), []).append(run.stored_value)
    for r in sorted(summarize(runs), key=rank):
        table.add_row(
            r["scenario"],
            r["strategy"],
            f"{r['cost']:,.0f} ± {r['cost_std']:,.0f}",
            f"{sum(stored[r['scenario'], r['strategy']]) / max(r['years'], 1):+,.0f}",
            f"{r['co2_t']:.1f} ± {r['co2_t_std']:.1f}",
            f"{r['unmet_demand']:.1f}",
            f"{r['gap_pct']:.2f} ± {r['gap_pct_std']:.2f}",
        )
    console.print(table)
    console.print(COMPARED_V0, markup=False, highlight=False)
    console.print("wrote " + ", ".join(str(p) for p in files.values()))


def register(app: typer.Typer) -> None:
    app.command("train")(train_cmd)
    app.command("export")(export_cmd)
    app.command("bench")(bench_cmd)
