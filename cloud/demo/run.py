"""``aisym demo [PARK]``: the park in the loop, end to end, over real protocols.

twin (``aisym plant``: Modbus TCP/RTU and OPC UA devices) → the real gateway (a process) →
Mosquitto → the ingestor (a process) → InfluxDB, and the controller (``aisym control``) from the
telemetry stream back to setpoints → the gateway → the devices → the twin. Services run with
authentication on, under ``OUT/services``; every process is stopped at the end, on Ctrl-C and on
any error, and what was written is kept.

At the end the run folder holds ``run.json``, ``plant.jsonl`` (every plant step),
``controller.jsonl`` (every decision), ``offline.json`` (the same strategy run directly in the
twin, the rules and the optimum over the same hours), ``report.html`` and ``grafana/``
(dashboards and provisioning files for this InfluxDB).

Faults (``--fault STEP:WHAT[:STEPS]``) are injected at a plant step: ``broker`` (stopped, then
started again after STEPS), ``gateway`` (killed with SIGKILL, started again after STEPS: its
spool keeps what it had not sent), ``ingest`` (the ingestor killed with SIGKILL, a crash: the
demo's supervision starts it again), ``device=ID:MODE`` (a plant device ``silent``, ``exception``
or ``restart``, cleared after STEPS).

Every input is checked before any service starts (:mod:`cloud.demo.checks`). A gateway or
ingestor that exits on its own is started again, at most :data:`MAX_RESTARTS` times each (both
keep what they had not delivered: the gateway's spool, the broker's persistent session of the
ingestor), and each restart is in ``run.json`` (``restarts``) and the report. Data completeness
counts against the gateway's own counter (:mod:`cloud.demo.completeness`).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .checks import DemoInputError, check_inputs
from .completeness import count_readings
from .procs import Children

log = logging.getLogger("aisym.demo")
GATEWAY_NODE = "gw-plant"
MAX_RESTARTS = 3  # per process: a process that keeps dying is a bug to see, not to hide


class DemoFailed(RuntimeError):
    """The loop could not go on (a part did not come up, or kept dying); what was written is kept."""


@dataclass
class Fault:
    """A fault injected at plant step ``at`` and lifted ``steps`` later."""

    at: int
    what: str  # broker | gateway | ingest | device=ID:MODE
    steps: int = 6

    @classmethod
    def parse(cls, spec: str) -> Fault:
        parts = spec.split(":")
        try:
            at = int(parts[0])
            what = parts[1]
            if what.startswith("device="):
                if len(parts) < 3:
                    raise ValueError
                what, rest = f"{what}:{parts[2]}", parts[3:]
            else:
                rest = parts[2:]
            steps = int(rest[0]) if rest else 6
        except (ValueError, IndexError):
            raise ValueError(f"--fault {spec!r}: write STEP:broker[:STEPS], STEP:gateway[:STEPS], STEP:ingest or "
                             "STEP:device=ID:MODE[:STEPS]") from None
        if not (what in ("broker", "gateway", "ingest") or what.startswith("device=")):
            raise ValueError(f"--fault {spec!r}: {what!r} is not broker, gateway, ingest or device=ID:MODE")
        return cls(at, what, steps)


@dataclass
class DemoConfig:
    """:param park: park file (None: Kråkøya) :param out: run folder :param hours: simulated hours
    :param speed: simulated seconds per wall second :param strategy: controller strategy (None:
    the shipped policy of the park if there is one, else the rules) :param start: first hour of
    the year :param exo_seed: seed of the weather and price year :param faults: faults to inject"""

    park: Path | None = None
    out: Path = Path("demo-out")
    hours: float = 168.0
    speed: float = 3600.0
    strategy: str | None = None
    start: int = 0
    exo_seed: int = 0
    faults: list[Fault] = field(default_factory=list)
    poll_s: float | None = None
    report: bool = True


def default_strategy(park_id: str) -> str:
    """The shipped PPO policy for the park when there is one (``NAME=FOLDER``), else ``rule``."""
    folder = Path(__file__).resolve().parents[2] / "sim_env" / "policies" / f"{park_id}_ppo"
    return f"ppo={folder}" if (folder / "policy.onnx").exists() else "rule"


class Demo:
    """One run of the loop (see the module docstring)."""

    def __init__(self, cfg: DemoConfig):
        from aisym.park.graph import load_graph

        self.cfg = cfg
        self.out = Path(cfg.out).resolve()
        self.graph = load_graph(cfg.park)
        self.park_id = self.graph.id
        from aisym.park import DEFAULT_PARK

        self.park_file = Path(cfg.park or DEFAULT_PARK).resolve()
        self.strategy_spec = cfg.strategy or default_strategy(self.park_id)
        self.procs: dict[str, subprocess.Popen] = {}
        self.records: list[dict] = []
        self.faults_done: list[dict] = []
        self.stack = None
        self.plant = None
        self.controller = None
        self._ctl_thread: threading.Thread | None = None
        self.t_first: int | None = None
        self.S_start: list[float] | None = None  # store levels before the first step of the run
        self.steps = 0
        self.seq0: int | None = None  # the gateway's counter before this run (its spool may be an earlier run's)
        self.restarts: list[dict] = []  # processes that exited on their own and were started again
        self.down_by_fault: set[str] = set()  # processes a fault stopped (not to be restarted)
        self.left_over: list[str] = []  # processes only the last-line guard stopped (should stay empty)
        self.started = False
        self.held_before_run = 0  # setpoints the controller held back before the run began

    # ------------------------------------------------------------------------------ start
    def prepare(self) -> None:
        """Build the plant (nothing listens yet) and check every input: :class:`DemoInputError`."""
        from sim_env.plant.plant import Plant

        for opt, v in (("--speed", self.cfg.speed), ("--hours", self.cfg.hours)):
            if not v > 0:  # the plant's clock divides by the speed
                raise DemoInputError(f"{opt} {v}: must be more than 0")
        poll = self.cfg.poll_s or max(0.2, min(1.0, 0.5 * 3600.0 / self.cfg.speed))
        self.plant = Plant(self.cfg.park, self.out / "plant", speed=self.cfg.speed, start=self.cfg.start,
                           exo_seed=self.cfg.exo_seed, poll_s=poll)
        self.steps = max(1, round(self.cfg.hours / self.plant.clock.dt_h))
        check_inputs(self.cfg, self.strategy_spec, self.plant, self.steps)

    def start(self) -> None:
        from aisym.services.stack import Stack

        if self.plant is None:
            self.prepare()
        self.out.mkdir(parents=True, exist_ok=True)
        self.started = True
        self.stack = Stack(self.out / "services")
        self.st = self.stack.up(self.park_id, nodes=[GATEWAY_NODE])
        self.plant.start_thread()
        self.gateway_config = self._gateway_config()
        since = int(time.time() * 1000)
        self._start_ingestor()
        # the ingestor's first session is made when it connects: a reading published before it has
        # subscribed has no subscriber and is dropped by the broker (the first 40 seqs of a run were
        # lost so, which completeness counted against the gateway's counter showed)
        self._wait_ingestor_online(since)
        self.seq0 = self._last_seq() or 0
        self._start_gateway()
        self._start_controller()

    def _gateway_config(self) -> Path:
        cfg = yaml.safe_load((self.out / "plant" / "gateway.yaml").read_text(encoding="utf-8"))
        cfg["node"] = GATEWAY_NODE
        cfg["broker"] = {"host": "127.0.0.1", "port": self.st["mqtt_port"], "username": GATEWAY_NODE,
                         "password_env": "AISYM_DEMO_GATEWAY_PASSWORD", "keepalive_s": 10}
        cfg["spool"] = {"path": str(self.out / "gateway-spool.db"), "fsync": "normal"}
        cfg["health_period_s"] = 2.0
        # ramp limits count plant seconds; silence (wall seconds) is three steps without a command
        period = 3600.0 * self.plant.clock.dt_h / self.cfg.speed
        cfg["setpoints"] = {**(cfg.get("setpoints") or {}), "time_scale": self.cfg.speed, "silence_s": max(3.0, 3 * period)}
        path = self.out / "gateway.yaml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path

    def _env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "PYTHONUNBUFFERED": "1", **extra}

    def _start_gateway(self) -> None:
        env = self._env(AISYM_DEMO_GATEWAY_PASSWORD=self.st["users"][GATEWAY_NODE])
        log_file = (self.out / "gateway.log").open("ab")
        self.procs["gateway"] = subprocess.Popen([sys.executable, "-m", "aisym", "gateway", "run", str(self.gateway_config)],
                                                 env=env, stdout=log_file, stderr=subprocess.STDOUT)

    def _start_ingestor(self) -> None:
        env = self._env(AISYM_MQTT_PORT=str(self.st["mqtt_port"]), AISYM_MQTT_USER="ingest",
                        AISYM_MQTT_PASSWORD=self.st["users"]["ingest"], AISYM_INFLUX_URL=self.st["influx_url"],
                        AISYM_INFLUX_DB=self.st["influx_db"], AISYM_INFLUX_USER="ingest",
                        AISYM_INFLUX_PASSWORD=self.st["influx_users"]["ingest"])
        log_file = (self.out / "ingest.log").open("ab")
        self.procs["ingest"] = subprocess.Popen(
            [sys.executable, "-m", "aisym", "ingest", "--park", str(self.park_file), "--state-dir",
             str(self.out / "ingest-state"), "--health-interval", "2", "--group", "none"],  # plain: see IngestConfig.group
            env=env, stdout=log_file, stderr=subprocess.STDOUT)

    def _wait_ingestor_online(self, since_ms: int, timeout_s: float = 60.0) -> None:
        """Until the ingestor's retained status says online (published after its subscriptions, on
        the same connection, so the broker has them) with a time from ``since_ms`` on."""
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        from aisym.contract import decode_status, topics

        seen = threading.Event()

        def on_message(client, userdata, msg) -> None:
            try:
                st = decode_status(msg.payload)
            except ValueError:
                return
            if st.state == "online" and (st.ts or 0) >= since_ms:
                seen.set()

        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"demo-watch-{os.getpid()}", protocol=mqtt.MQTTv5)
        c.username_pw_set("admin", self.st["users"]["admin"])
        c.on_connect = lambda client, *a: client.subscribe(topics.status(self.park_id, "ingest"), qos=1)
        c.on_message = on_message
        c.connect("127.0.0.1", self.st["mqtt_port"])
        c.loop_start()
        try:
            end = time.monotonic() + timeout_s
            while not seen.wait(0.1):
                if self.procs["ingest"].poll() is not None or time.monotonic() > end:
                    raise DemoFailed(f"the ingestor did not come online in {timeout_s:.0f} s (exit code "
                                     f"{self.procs['ingest'].poll()}): see {self.out / 'ingest.log'}")
        finally:
            c.loop_stop()
            c.disconnect()

    def _start_controller(self) -> None:
        from aisym.influx import InfluxV1
        from cloud.controller.controller import Controller, MqttSettings, PlantClock, gateway_writes, make_strategy

        users, iu = self.st["users"], self.st["influx_users"]
        influx = InfluxV1(self.st["influx_url"], self.st["influx_db"], "controller" if "controller" in iu else "admin",
                          iu.get("controller") or iu["admin"])
        self.controller = Controller(self.park_file, gateway_writes([self.gateway_config]),
                                     make_strategy(self.strategy_spec, self.park_id),
                                     MqttSettings("127.0.0.1", self.st["mqtt_port"], "controller", users["controller"]),
                                     PlantClock(self.plant.control_port, self.cfg.start), influx=influx,
                                     exo_seed=self.cfg.exo_seed,
                                     stale_after_s=max(3.0, 3 * self.plant.clock.period_s))
        self._ctl_thread = threading.Thread(target=self.controller.run, name="aisym-control", daemon=True)
        self._ctl_thread.start()

    # ------------------------------------------------------------------------------ faults
    def _inject(self, f: Fault) -> None:
        if f.what == "broker":
            self._broker(stop=True)
        elif f.what in ("gateway", "ingest"):
            if f.what == "gateway":
                self.down_by_fault.add("gateway")  # started again by the fault's end, not by supervision
            p = self.procs[f.what]
            p.send_signal(signal.SIGKILL)
            p.wait(10)
        else:
            dev, mode = f.what.split("=", 1)[1].split(":")
            self.plant.fault(dev, mode)
        if f.what == "ingest":
            self.faults_done.append({"t": self.plant.clock.steps, "what": "ingest killed"})
            return
        self.faults_done.append({"t": self.plant.clock.steps, "what": f"{f.what} down", "steps": f.steps})

    def _lift(self, f: Fault) -> None:
        if f.what == "broker":
            self._broker(stop=False)
        elif f.what == "gateway":
            self._start_gateway()
            self.down_by_fault.discard("gateway")
        else:
            dev = f.what.split("=", 1)[1].split(":")[0]
            self.plant.fault(dev, "ok")
        self.faults_done.append({"t": self.plant.clock.steps, "what": f"{f.what} back"})

    def _broker(self, stop: bool) -> None:
        from aisym.services._proc import stop_pid
        from aisym.services.acl import park_acl
        from aisym.services.mosquitto import Mosquitto

        if stop:
            stop_pid(self.st["mosquitto_pid"])
            return
        acl = park_acl(self.park_id, [GATEWAY_NODE], ingestors=["ingest"], controllers=["controller"], admins=["admin"])
        broker = Mosquitto(self.out / "services" / "mosquitto", self.st["users"], acl, port=self.st["mqtt_port"],
                           tls_port=self.st["mqtt_tls_port"])
        broker.write_config()
        broker.start()
        self.st["mosquitto_pid"] = broker.pid
        self._save_broker_pid()

    def _save_broker_pid(self) -> None:
        """The restarted broker's PID into the services' state.json, so the stack's ``down`` (and
        ``aisym services down`` on this folder) stops this broker, not the one that is gone."""
        from aisym.services.secretfile import write_private

        st = self.stack.state() or {}
        st["mosquitto_pid"] = self.st["mosquitto_pid"]
        write_private(self.stack.state_file, json.dumps(st, indent=2))
    # ------------------------------------------------------------------------------ run
    def run(self, progress: bool = True) -> None:
        """Step until the simulated hours are done (faults at their steps), then stop everything."""
        steps = self.steps
        pending = sorted(self.cfg.faults, key=lambda f: f.at)
        active: list[tuple[int, Fault]] = []
        seen = 0
        bar = self._progress(steps) if progress else None
        try:
            # the run starts once every device link of the gateway is up and the controller
            # commanded with fresh levels
            ready_by, give_up = time.monotonic() + 60.0, time.monotonic() + 180.0
            while (self.controller.counters.steps == 0 or self.controller.blind
                   or (time.monotonic() < ready_by and not self._gateway_ready())):
                self._supervise()
                if time.monotonic() > give_up:
                    c = self.controller
                    raise DemoFailed(
                        f"the loop did not come up in 180 s: controller steps {c.counters.steps}, blind {c.blind} "
                        f"(stale: {', '.join(c.last.get('stale', [])) or '-'}), telemetry messages {c.counters.telemetry}, "
                        f"connected {c.client.is_connected()}, plant steps {self.plant.clock.steps}, gateway links up "
                        f"{self._gateway_ready()}; see {self.out}/*.log")
                time.sleep(0.1)
            first = self.plant.clock.steps
            self.held_before_run = self.controller.counters.setpoints_held
            before = next((r for r in reversed(self.plant.history) if r["step"] == first), None)
            self.S_start = None if before is None or "S" not in before else [float(x) for x in before["S"]]
            while seen < steps:
                self._supervise()
                hist = list(self.plant.history)
                new = [r for r in hist if r["step"] > first + seen]
                for r in new[: steps - seen]:
                    self.records.append(r)
                seen = min(steps, seen + len(new))
                k = seen
                while pending and pending[0].at <= k:
                    f = pending.pop(0)
                    self._inject(f)
                    if f.what != "ingest":  # a crash has no end: supervision restarts the ingestor
                        active.append((k + f.steps, f))
                for item in [a for a in active if a[0] <= k]:
                    active.remove(item)
                    self._lift(item[1])
                if bar is not None:
                    bar(seen)
                time.sleep(min(0.2, self.plant.clock.period_s / 4))
            for _, f in active:
                self._lift(f)
        finally:
            if bar is not None:
                bar(None)

    def _gateway_ready(self) -> bool:
        """The gateway's last health report says every device and OPC UA link is online."""
        from aisym.influx import InfluxV1

        db = InfluxV1(self.st["influx_url"], self.st["influx_db"], "admin", self.st["influx_users"]["admin"])
        try:
            rows = db.rows(f"SELECT last(*) FROM node_health WHERE node = '{GATEWAY_NODE}'")
        except Exception:
            return False
        finally:
            db.close()
        online = {k: v for k, v in (rows[0] if rows else {}).items() if k.endswith("_online")}
        return bool(online) and all(v == 1 for v in online.values())

    def _supervise(self) -> None:
        """Start again a gateway or ingestor that exited on its own (not one a fault stopped), at
        most :data:`MAX_RESTARTS` times each; a controller thread that ended is fatal."""
        for name, start in (("ingest", self._start_ingestor), ("gateway", self._start_gateway)):
            p = self.procs.get(name)
            if p is None or p.poll() is None or name in self.down_by_fault:
                continue
            log_file = self.out / f"{name}.log"
            if p.returncode == 2:  # a usage or config error: starting it again would only repeat it
                raise DemoFailed(f"the {name} process refused its configuration (exit code 2): see {log_file}")
            if sum(r["process"] == name for r in self.restarts) >= MAX_RESTARTS:
                raise DemoFailed(f"the {name} process exited with {p.returncode} after {MAX_RESTARTS} restarts: "
                                 f"see {log_file}")
            log.warning("the %s process exited with %s: starting it again (see %s)", name, p.returncode, log_file)
            self.restarts.append({"t": self.plant.clock.steps, "process": name, "exit_code": p.returncode})
            start()
        if self._ctl_thread is not None and not self._ctl_thread.is_alive():
            raise DemoFailed("the controller stopped on its own: see the log above")

    def _progress(self, steps: int):
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        prog = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} h"),
                        TextColumn("{task.fields[kpi]}"), TimeRemainingColumn())
        task = prog.add_task(f"{self.park_id}: {self.strategy_spec.split('=')[0]}", total=steps, kpi="")
        prog.start()
        cur = self.graph.park.currency
        cost_col = None

        def update(n: int | None) -> None:
            nonlocal cost_col
            if n is None:
                prog.stop()
                return
            if cost_col is None and self.records:
                from sim_env.graph.kernel import Y_CO2, Y_REWARD

                cost_col = (Y_REWARD, Y_CO2)
            obj = -sum(float(r["y"][cost_col[0]]) for r in self.records) if cost_col else 0.0
            co2 = sum(float(r["y"][cost_col[1]]) for r in self.records) / 1000 if cost_col else 0.0
            c = self.controller.counters
            prog.update(task, completed=n, kpi=f"{obj:,.0f} {cur}, {co2:,.1f} t CO2, {c.applied} setpoints applied, "
                                               f"{c.blind_steps} blind")
        return update

    # ------------------------------------------------------------------------------ stop
    def stop(self, drain: bool = True) -> None:
        """Stop every part (controller, gateway after its spool drained, ingestor, plant); with
        ``drain`` False (Ctrl-C) nobody waits for data still on its way: it stays in the spool."""
        try:
            if self.controller is not None:
                self.controller.stop()
                if self._ctl_thread is not None:
                    self._ctl_thread.join(15)
        finally:
            try:
                for name, drained in (("gateway", self._drain_gateway), ("ingest", self._drain_ingest)):
                    p = self.procs.get(name)
                    if p is not None and p.poll() is None:
                        if drain:
                            drained()
                        p.terminate()
                        _wait(p)
            finally:
                if self.plant is not None:
                    self.plant.join()

    def down(self) -> None:
        """Stop the services (after the results were read from InfluxDB), a restarted broker included."""
        from aisym.services._proc import pid_alive, stop_pid
        from aisym.services.stack import PROCESSES

        try:
            if self.stack is not None:
                self.stack.down()
        finally:
            for key in PROCESSES:  # the InfluxDB gate too
                pid = getattr(self, "st", {}).get(key)
                if pid and pid_alive(pid):
                    stop_pid(pid)

    def _drain_gateway(self, timeout_s: float = 30.0) -> None:
        """Wait until the gateway's spool has nothing left to send (or ``timeout_s``)."""
        import sqlite3

        spool = self.out / "gateway-spool.db"
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            try:
                with sqlite3.connect(f"file:{spool}?mode=ro", uri=True, timeout=1) as db:
                    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
                    left = sum(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables
                               if "reading" in t or "spool" in t or "queue" in t)
            except sqlite3.Error:
                left = 0
            if left == 0:
                return
            time.sleep(0.25)

    def _last_seq(self) -> int | None:
        """The last seq the gateway's spool gave out (SQLite's AUTOINCREMENT counter, kept when the
        rows are deleted); 0 before the first reading, None when the spool cannot be read."""
        import sqlite3

        spool = self.out / "gateway-spool.db"
        if not spool.exists():
            return 0
        try:
            with sqlite3.connect(f"file:{spool}?mode=ro", uri=True, timeout=1) as db:
                row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'readings'").fetchone()
            return int(row[0]) if row else 0
        except sqlite3.Error:
            return None

    def _drain_ingest(self, timeout_s: float = 60.0) -> None:
        """Wait until InfluxDB holds every seq the gateway gave out (or, failing that, until the
        count has stopped growing for 5 s within ``timeout_s``)."""
        last, since, end = -1, time.monotonic(), time.monotonic() + timeout_s
        while time.monotonic() < end:
            c = self.completeness()
            n = c.get("points_in_influx", 0)
            if c.get("readings_sent") and c.get("missing_seqs") == 0:
                return
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since > 5.0:
                return
            time.sleep(0.5)

    # ------------------------------------------------------------------------------ results
    def completeness(self) -> dict[str, Any]:
        """The gateway's readings of this run in InfluxDB, counted against the seqs its spool gave
        out from the first of this run to the last (:func:`~cloud.demo.completeness.count_readings`)."""
        from aisym.influx import InfluxV1

        if not hasattr(self, "st"):
            return {}
        db = InfluxV1(self.st["influx_url"], self.st["influx_db"], "admin", self.st["influx_users"]["admin"])
        try:
            rows = db.rows(f"SELECT seq, quality FROM /.*/ WHERE node = '{GATEWAY_NODE}'")
        except Exception:
            return {}
        finally:
            db.close()
        return count_readings(rows, (self.seq0 or 0) + 1, self._last_seq())

    def write(self) -> Path:
        """run.json, plant.jsonl, controller.jsonl; then offline.json, report.html and grafana/."""
        cp = self.plant.cp
        stores = [k for n, k in enumerate(cp.node_keys) if cp.NI[n, 0] == 4]
        idx = [cp.node_keys.index(k) for k in stores]
        with (self.out / "plant.jsonl").open("w") as f:
            for r in self.records:
                f.write(json.dumps({"step": r["step"], "t": r["t"], "setpoints": r["setpoints"],
                                    "actions": [float(x) for x in r["actions"]], "y": [float(x) for x in r["y"]],
                                    "S": [float(r.get("S", [0.0] * cp.n_nodes)[i]) for i in idx] if "S" in r else []})
                        + "\n")
        c = self.controller.counters if self.controller else None
        with (self.out / "controller.jsonl").open("w") as f:
            for h in (self.controller.history if self.controller else []):
                f.write(json.dumps(h) + "\n")
        run = {"park": self.park_id, "park_file": str(self.park_file), "park_name": self.graph.park.name,
               "currency": self.graph.park.currency, "strategy": self.strategy_spec, "hours": self.cfg.hours,
               "start": self.records[0]["t"] if self.records else self.cfg.start, "exo_seed": self.cfg.exo_seed,
               "speed": self.cfg.speed, "dt_h": self.plant.clock.dt_h, "action_names": list(cp.action_names),
               "kpi_names": list(self.plant.twin.kpi_names), "stores": stores,
               "store_capacity": {k: float(cp.NF[i, 0]) for k, i in zip(stores, idx, strict=True)},
               "wall_s": self.wall_s, "completeness": self.completeness(),
               "setpoints": self._setpoints(), "restarts": self.restarts,
               "blind_steps": c.blind_steps if c else 0, "faults": self.faults_done,
               "state0": None if self.S_start is None else dict(zip(cp.node_keys, self.S_start, strict=True))}
        (self.out / "run.json").write_text(json.dumps(run, indent=2))
        return self.out / "run.json"

    def _setpoints(self) -> dict[str, Any]:
        """The controller's own counts (``Controller.setpoint_counts``): every setpoint it decided
        was sent or held back (its gateway's own status said offline: while the loop starts, before
        the gateway is online, and whenever it is not); every one sent was applied, rejected,
        failed, timed out or is still pending. ``held_before_run``: those held while starting."""
        if self.controller is None:
            return {}
        n = self.controller.setpoint_counts()
        return {"commands": n["commands"], "commanded": n["decided"], "sent": n["sent"], "held": n["held"],
                "held_before_run": self.held_before_run, "commands_held": n["commands_held"],
                "applied": n["applied"], "rejected": n["rejected"], "failed": n["failed"],
                "timeouts": n["command_timeouts"], "timed_out": n["timed_out"], "pending": n["pending"],
                "messages_refused": {k: v for k, v in n["refused"].items() if v},
                "failures": self.controller.failures[-20:]}

    wall_s: float = 0.0


def _wait(p: subprocess.Popen, timeout: float = 15.0) -> None:
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)


def run_demo(cfg: DemoConfig, progress: bool = True) -> Demo:
    """Check, start, run, stop and write a demo. Every process it started is stopped at the end,
    on any error and on Ctrl-C (then without waiting for data still on its way). A wrong input
    raises :class:`~cloud.demo.checks.DemoInputError` before anything starts."""
    demo = Demo(cfg)
    demo.prepare()
    guard = Children()
    t0 = time.monotonic()
    drain = True
    try:
        try:
            demo.start()
            demo.run(progress)
        except KeyboardInterrupt:
            drain = False
            raise
        finally:
            demo.wall_s = time.monotonic() - t0
            try:
                demo.stop(drain)
            finally:
                if demo.started:
                    demo.write()
        if cfg.report:
            finish(demo)
    finally:
        try:
            demo.down()
        finally:
            demo.left_over = guard.stop_new()
    return demo


def finish(demo: Demo) -> None:
    """The offline comparison, the report and the dashboards of a written run folder."""
    from cloud.dashboards import write_all

    write_all(demo.graph, demo.out / "grafana", database=demo.st["influx_db"], influx_url=demo.st["influx_url"])
    from cloud.demo.report import write_report

    write_report(demo.out)  # runs the offline comparison from run.json (start, state0) into offline.json
