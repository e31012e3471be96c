"""RL on the compiled twin (aisym/Park-v1): env, rewards, the shipped policy, train and export.

Everything runs on the generic kernel (``specialise=None``: compiled in seconds and cached), with
training of a few hundred steps only; the trained figures are in docs/training.md.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from sim_env.graph.baselines import GraphRules
from sim_env.graph.evaluate import evaluate
from sim_env.graph.twin import GraphTwin, resolve
from sim_env.rl.config import ConfigError, load_config, set_park
from sim_env.rl.graph_rules import YearRules, env_info
from sim_env.rl.layout import fingerprint, layout_of_twin
from sim_env.rl.onnx_policy import OnnxPolicy
from sim_env.rl.shipped import POLICIES_DIR, load_policy, policy_folder
from sim_env.rl.strategy import GraphPolicyStrategy

KRAAKOYA = "aisym/parks/kraakoya.yaml"
KALUNDBORG = "aisym/parks/kalundborg.yaml"
SHIPPED = POLICIES_DIR / "kraakoya_ppo"


@pytest.fixture(scope="module")
def kraakoya():
    return resolve(KRAAKOYA)


def _env(n: int, **kw):
    from sim_env.rl.envs import make_graph_vec_env

    return make_graph_vec_env(n, seed=3, split="train", park=KRAAKOYA, train_years=2, specialise=None, **kw)


def test_fixed_action_baseline_is_the_reward_less_a_shadow_row_stepped_alone(kraakoya):
    """r' = r − r_shadow, where the shadow is the same park stepped with fixed actions from the same start."""
    env = _env(2, action_mode="centered", reward="baseline", baseline_action=0.25)
    env.reset()
    inner = env.venv.venv.twin  # GraphAgentVecEnv > VecMonitor > GraphSB3VecEnv
    ref = GraphTwin(2, kraakoya, exo_seed=0, n_years=2)
    ref.batch.t[:], ref.batch.ser[:], ref.batch.S[:] = inner.batch.t, inner.batch.ser, inner.batch.S
    rng = np.random.default_rng(0)
    for _ in range(30):
        agent = rng.uniform(-1, 1, (2, 10)).astype(np.float32)
        _, shaped, _, _ = env.step(agent)
        full = inner.Y[:, 0].copy()
        ref.batch.step(np.full((2, 10), 0.25))
        np.testing.assert_allclose(shaped, full - ref.Y[:, 0], rtol=1e-5, atol=1e-3)
        assert np.abs(full).max() > 1.0  # a real cost, not zeros


def test_residual_agent_at_zero_is_the_rules_and_earns_zero_against_the_rules_shadow():
    env = _env(3, action_mode="residual", residual_scale=0.5, reward="baseline", baseline_action="rule")
    env.reset()
    total = np.zeros(3)
    for _ in range(48):
        _, shaped, _, _ = env.step(np.zeros((3, 10), dtype=np.float32))
        total += shaped
    np.testing.assert_allclose(total, 0.0, atol=1e-2)


def test_year_rules_equal_each_years_own_rules(kraakoya):
    twin = GraphTwin(4, kraakoya, exo_seed=0, n_years=3)
    rules = YearRules(twin)
    rng = np.random.default_rng(1)
    S = twin.S0.copy() * rng.uniform(0.1, 1.5, twin.S0.shape)
    t = rng.integers(0, 8760, 4)
    ser = np.array([0, 2, 1, 2])
    got = rules(S, t, ser)
    for k in range(4):
        own = GraphRules()
        own.reset(env_info(twin, int(ser[k])))
        np.testing.assert_array_equal(got[k], own.act_batch(S[k : k + 1], t[k : k + 1])[0])


def test_compiled_twin_refuses_v0_only_options():
    with pytest.raises(ValueError, match="controllable was the retired hand-written twin's"):
        _env(1, reward="controllable")
    with pytest.raises(ValueError, match="action mode 'sideways'"):
        _env(1, action_mode="sideways")
    cfg = load_config("ppo", "aisym/Park-v0")
    with pytest.raises(ConfigError, match="--park needs --env aisym/Park-v1"):
        set_park(cfg, KRAAKOYA)
    with pytest.raises(FileNotFoundError, match=r"nowhere\.yaml: no such park file"):
        set_park(load_config("ppo", "aisym/Park-v1"), "nowhere.yaml")


def test_shipped_policy_acts_in_the_box_on_its_park(kraakoya):
    policy = load_policy("kraakoya")
    assert policy.folder == SHIPPED and policy_folder("kraakoya_ppo") == SHIPPED
    r = evaluate(policy, kraakoya, hours=48, exo_seed=1001)
    assert r.steps == 48 and r.clip_total >= 0.0 and np.isfinite(r.objective)
    twin = GraphTwin(1, kraakoya, start=100, exo_seed=1001)
    policy.reset(env_info(twin, 0))
    from sim_env.graph.evaluate import GraphStepInfo

    a = policy.act(twin.observe()[0], GraphStepInfo(0, 100, twin.S[0].copy(), np.zeros(twin.Y.shape[1])))
    assert a.shape == (10,) and np.all((a >= 0.0) & (a <= 1.0))


def test_shipped_policy_json_names_its_park_and_its_onnx_gives_the_trained_models_actions(kraakoya):
    meta = json.loads((SHIPPED / "policy.json").read_text())
    assert meta["env_id"] == "aisym/Park-v1" and meta["park"] == "kraakoya"
    layout = layout_of_twin(GraphTwin(1, kraakoya))
    assert meta["park_fingerprint"] == fingerprint(layout)  # the park still compiles to what it was trained on
    assert meta["obs_names"] == layout["observation_names"] and meta["action_names"] == layout["action_names"]
    onnx = OnnxPolicy(SHIPPED)
    ref = meta["reference"]
    got = onnx.predict(np.array(ref["obs"]))
    np.testing.assert_allclose(got, np.array(ref["agent_action"]), atol=2e-5)  # torch's float32 against onnxruntime's
    assert (SHIPPED / "policy.onnx").stat().st_size < 1_000_000


def test_shipped_policy_refuses_another_parks_layout():
    policy = load_policy("kraakoya")
    other = GraphTwin(1, KALUNDBORG)
    with pytest.raises(ValueError, match=r"trained on park 'kraakoya' and does not fit park 'kalundborg'.*action_names"):
        policy.reset(env_info(other, 0))
    shorter = GraphTwin(1, KRAAKOYA, forecast_hours=12)  # the same park, another observation
    with pytest.raises(ValueError, match="observation_names: 40 here, 64 in training; missing ahead13"):
        policy.reset(env_info(shorter, 0))


def test_shipped_policy_runs_without_torch_or_sb3():
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['stable_baselines3'] = None\n"
        "import numpy as np\n"
        "from sim_env.graph.evaluate import evaluate\n"
        "from sim_env.rl.shipped import load_policy\n"
        f"r = evaluate(load_policy('kraakoya_ppo'), {KRAAKOYA!r}, hours=6, exo_seed=1002)\n"
        "print('objective', r.objective)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "objective" in out.stdout


def test_smoke_train_on_park_v1_then_aisym_export(tmp_path):
    from typer.testing import CliRunner

    from aisym.cli import app
    from sim_env.rl.train import train

    overrides = {"n_timesteps": 256, "n_envs": 4, "n_steps": 64, "batch_size": 128, "n_epochs": 1, "eval_freq": 256,
                 "eval_episodes": 1}
    cfg = load_config("ppo", "aisym/Park-v1", overrides=overrides)
    set_park(cfg, KRAAKOYA)
    cfg.env_kwargs.update(episode_hours=24, specialise=None, train_years=2)
    cfg.raw["env_kwargs"] = dict(cfg.env_kwargs)
    run = train(cfg, tmp_path / "run", seed=1, progress_bar=False)
    assert run.num_timesteps == 256
    for name in ("model.zip", "vecnormalize.pkl", "config.yml", "eval/evaluations.npz"):
        assert (run.folder / name).exists(), name
    r = CliRunner().invoke(app, ["export", str(run.folder)])
    assert r.exit_code == 0, r.output
    export = run.folder / "export"
    meta = json.loads((export / "policy.json").read_text())
    assert meta["park"] == "kraakoya" and meta["agent_actions"]["mode"] == cfg.env_kwargs["action_mode"]
    np.testing.assert_allclose(OnnxPolicy(export).predict(np.array(meta["reference"]["obs"])),
                               meta["reference"]["agent_action"], atol=2e-5)
    from_run = evaluate(GraphPolicyStrategy(run.folder), KRAAKOYA, hours=12, exo_seed=1001)
    from_onnx = evaluate(GraphPolicyStrategy(export), KRAAKOYA, hours=12, exo_seed=1001)
    assert from_onnx.objective == pytest.approx(from_run.objective, rel=1e-4)
