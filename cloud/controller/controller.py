"""``aisym control``: the park's controller, from measured state to setpoints on the command topics.

Each step of the park's clock the controller

1. takes the newest reading of every store-level tag from the telemetry stream (after a restart,
   from InfluxDB until the stream has them); stores without a level tag are followed by a shadow
   twin stepped with the actions actually commanded;
2. builds the observation exactly as the env does (the same :class:`~sim_env.graph.twin.GraphTwin`
   observation, with the measured levels and the park's series at this step);
3. runs its strategy (rules, MPC or an ONNX policy: :func:`make_strategy`) and turns each action
   fraction into the setpoint of the tag that drives it (:mod:`sim_env.plant.signals`), clipped to
   the tag's limits;
4. publishes one ``Command`` per node on ``aisym/<park>/<node>/cmd`` (QoS 1) and tracks its ``Ack``.

A level older than ``stale_after_s`` or not ``good`` makes the controller **blind**: it commands
every setpoint's ``control.safe_default`` instead and says so in its log, its health counters
(the ``controller_health`` series in InfluxDB) and its status, until fresh levels return.

It believes only what the stack can attribute (:mod:`.trust`): a gateway's online state from the
gateway's own status topic, a level from the node that owns the tag, never from the future or
beyond the tag's range; acks from the node the command went to. What it refuses is counted
(``refused_<kind>_<code>`` in ``controller_health``).
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from aisym.contract import (
    Command,
    PayloadError,
    Setpoint,
    Status,
    decode_ack,
    encode,
    now_ms,
    topics,
)

from .state import LatestState, load_latest
from .trust import REFUSALS, Trust, refusal

log = logging.getLogger("aisym.control")


@dataclass
class MqttSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    user: str = "controller"
    password: str = ""
    ca_file: Path | None = None


@dataclass
class Counters:
    """What the controller did. Every setpoint it decided is sent or held; every one sent ends up
    applied, rejected, failed, timed out, or still pending (``Controller.pending``)."""

    steps: int = 0
    commands: int = 0  # commands sent (one per node and step)
    setpoints: int = 0  # setpoints sent (a command carries one per tag of its node)
    commands_held: int = 0  # commands not sent: their gateway's own status said offline
    setpoints_held: int = 0  # the setpoints those commands carried
    applied: int = 0
    rejected: int = 0
    failed: int = 0
    ack_timeouts: int = 0  # commands without an ack in ack_timeout_s
    setpoints_timed_out: int = 0  # the setpoints those commands carried
    blind_steps: int = 0
    telemetry: int = 0  # telemetry messages taken
    restored_from_influx: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # messages refused, by trust.REFUSALS key
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def setpoints_sent(self) -> int:
        return self.setpoints

    @property
    def setpoints_decided(self) -> int:
        return self.setpoints + self.setpoints_held

    def refuse(self, key: str) -> int:
        """Count one refused message; returns how many of ``key`` so far."""
        n = self.refused[key] = self.refused.get(key, 0) + 1
        return n


class PlantClock:
    """The simulated plant's step (``{"cmd": "status"}`` on its control socket): ``start + steps``.

    :param port: the plant's control port on 127.0.0.1
    :param start: the twin's first step (as the plant was started)
    """

    def __init__(self, port: int, start: int = 0):
        self.port, self.start = port, start

    def __call__(self) -> int | None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2.0) as s:
                s.sendall(b'{"cmd": "status"}\n')
                line = s.makefile("rb").readline()
            return self.start + int(json.loads(line)["steps"])
        except (OSError, ValueError, KeyError):
            return None


class WallClock:
    """A real park's clock: the hour of the year now (UTC), in steps of ``dt_h``."""

    def __init__(self, dt_h: float = 1.0):
        self.dt_h = dt_h

    def __call__(self) -> int:
        t = time.gmtime()
        return int(((t.tm_yday - 1) * 24 + t.tm_hour) / self.dt_h)


def gateway_writes(paths: list[Path]) -> dict[str, str]:
    """setpoint tag -> the gateway node that writes it, from gateway config files."""
    out: dict[str, str] = {}
    for p in paths:
        cfg = yaml.safe_load(Path(p).read_text(encoding="utf-8")) or {}
        node = cfg.get("node")
        if not node:
            raise ValueError(f"{p}: node: a gateway config names its node id")
        tags = list((cfg.get("setpoints") or {}).get("writes") or {})
        servers = cfg.get("opcua") or []
        for server in servers if isinstance(servers, list) else [servers]:
            tags += [n["tag"] for n in server.get("nodes", []) if n.get("writable") and n.get("tag")]
        for tag in tags:
            if tag in out and out[tag] != node:
                raise ValueError(f"{p}: setpoints.writes: {tag} is written by {out[tag]} already")
            out[tag] = node
    return out


def make_strategy(spec: str, park_id: str):
    """``rule``, ``mpc``, ``onnx=FOLDER`` or ``policy=NAME`` (a shipped policy), or ``module:Class``."""
    if spec in ("rule", "mpc", "mpc_perfect", "mpc_learned", "random"):
        from sim_env.graph.baselines import make_graph_strategy

        return make_graph_strategy(spec)
    from sim_env.graph.bench import resolve_graph_strategy

    return resolve_graph_strategy(spec)()


class Controller:
    """The control loop (see the module docstring).

    :param park: park file (v1 or v2)
    :param writes: setpoint tag -> node (:func:`gateway_writes`)
    :param strategy: a strategy object (``reset``/``act`` of :mod:`sim_env.graph.evaluate`)
    :param mqtt_settings: broker and account
    :param clock: returns the park's current step (None: unknown now)
    :param influx: an :class:`aisym.influx.InfluxV1` to restore levels from after a restart, and
        to write ``controller_health`` into (None: neither)
    :param exo_seed: seed of the park's generated series (as the plant or the twin uses)
    :param stale_after_s: a level older than this (wall seconds) is stale
    :param ack_timeout_s: a command not acknowledged in this long counts as a timeout
    :param client_id: MQTT client id (the account binds it)
    :param require_online: command a gateway only while its retained status (on its own topic)
        says ``online`` (a command to an offline gateway is dropped by the broker; the gateway holds
        safe defaults on its own after ``silence_s``)
    :param ownership: the ingestor's node -> tags map (:mod:`cloud.ingest.ownership`); None: store
        levels are taken only from the gateways in ``writes`` (see :mod:`.trust`)
    """

    def __init__(self, park: str | Path, writes: dict[str, str], strategy: Any, mqtt_settings: MqttSettings,
                 clock: Callable[[], int | None], influx=None, exo_seed: int = 0, stale_after_s: float = 5.0,
                 ack_timeout_s: float = 10.0, client_id: str | None = None, require_online: bool = True,
                 ownership=None):
        from sim_env.graph.kernel import initial_state
        from sim_env.graph.twin import GraphTwin
        from sim_env.plant.signals import park_signals

        self.twin = GraphTwin(1, park, start=0, exo_seed=exo_seed, episode_hours=10 * 8760.0)
        self.cp = self.twin.cp
        self.park_id = self.cp.graph.id
        self.tags = dict(self.cp.graph.tags)
        self.signals = park_signals(self.cp)
        missing = sorted(t for t in self.signals.actuators if t not in writes)
        if missing:
            raise ValueError(f"no gateway writes {', '.join(missing)}: give the gateway config that does (--gateway)")
        self.writes = {t: n for t, n in writes.items() if t in self.signals.actuators}
        self.levels = {m.store: (t, m) for t, m in self.signals.measures.items() if m.store >= 0}
        level_tags = [t for t, _ in self.levels.values()]
        unowned = [t for t in level_tags if ownership is not None and t not in ownership.owner_of]
        if unowned:  # every reading of it would be refused: blind for good
            raise ValueError(f"{ownership.source}: no node owns the level tag(s) {', '.join(unowned)}")
        self.trust = Trust(self.cp.graph, level_tags, set(self.writes.values()), ownership)
        self.strategy = strategy
        if influx is not None and getattr(strategy, "learned", None) is not None:  # mpc_learned: the forecasts
            from cloud.forecast.live import InfluxForecasts  # `aisym forecast fit` stored, where fresh (else learned here)

            strategy.learned = InfluxForecasts(influx, self.cp, lambda: time.time_ns() // 1_000_000, strategy.learned)
        self.mqtt_settings = mqtt_settings
        self.clock = clock
        self.influx = influx
        self.stale_after_ms = 1000.0 * stale_after_s
        self.ack_timeout_s = ack_timeout_s
        self.client_id = client_id or mqtt_settings.user
        self.require_online = require_online
        self.state = LatestState()
        self.counters = Counters()
        self.S = initial_state(self.cp, 1)[0]
        self.blind = False
        self.last: dict[str, Any] = {}
        self.history: list[dict] = []
        self.pending: dict[str, tuple[float, str, int]] = {}  # command id -> (sent, node, setpoints)
        self.online: dict[str, bool] = {}  # gateway node -> its own retained status says online
        self.failures: list[str] = []  # why setpoints failed, as the gateways said
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._step_k = 0
        self._y = np.zeros(len(self.twin.kpi_names))
        self._reset_strategy()
        self._warm_up()
        self.client = self._client()

    def _warm_up(self) -> None:
        """Compile the observation and the kernel now (Numba, tens of seconds on a cold cache), not
        at the first step, where it would delay the first commands."""
        tw = self.twin
        S, t = tw.batch.S.copy(), tw.batch.t.copy()
        tw.observe()
        tw.batch.step(np.zeros((1, self.cp.n_actions)))
        tw.batch.S[...], tw.batch.t[...] = S, t

    # -------------------------------------------------------------------------------- MQTT
    def _client(self) -> mqtt.Client:
        s = self.mqtt_settings
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5)
        c.username_pw_set(s.user, s.password)
        if s.ca_file:
            c.tls_set(ca_certs=str(s.ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        c.reconnect_delay_set(1, 5)
        c.will_set(topics.status(self.park_id, s.user), encode(Status(v=1, node=s.user, state="offline", ts=now_ms(),
                                                                       role="controller")), qos=1, retain=True)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        return c

    def _on_connect(self, client, userdata, flags, reason, properties=None) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        client.subscribe([(topics.subscription(kind, self.park_id), 1) for kind in ("telemetry", "cmd/ack", "status")])
        client.publish(topics.status(self.park_id, self.mqtt_settings.user),
                       encode(Status(v=1, node=self.mqtt_settings.user, state="online", ts=now_ms(), role="controller")),
                       qos=1, retain=True)
        log.info("connected to %s:%s as %s", self.mqtt_settings.host, self.mqtt_settings.port, self.mqtt_settings.user)

    def _on_message(self, client, userdata, msg) -> None:
        try:
            t = topics.parse(msg.topic)
        except topics.TopicError as e:  # the subscriptions deliver only the scheme's topics
            log.warning("ignored a message on %s: %s", msg.topic, e)
            return
        try:
            if t.kind == "telemetry":
                self.state.update(self.trust.telemetry(t.node, msg.payload, now_ms()))
                self.counters.telemetry += 1
            elif t.kind == "cmd/ack":
                self._on_ack(t.node, msg.payload)
            elif t.kind == "status":
                st = self.trust.status(t.node, msg.payload)
                if t.node in self.trust.commanded:
                    if st is None:
                        self.online.pop(t.node, None)
                    else:
                        self.online[t.node] = st.state == "online"
        except PayloadError as e:  # the sender's problem: count it, log it, keep controlling
            key = refusal(t.kind, e)
            n = self.counters.refuse(key)
            if n & (n - 1) == 0:  # the 1st, 2nd, 4th, 8th...: a flooding sender cannot flood the log
                log.warning("refused a message on %s (%s, %d so far): %s", msg.topic, key, n, e)
        except Exception as e:  # a bug of ours must not stop control
            log.warning("ignored a message on %s: %s: %s", msg.topic, type(e).__name__, e)

    def _on_ack(self, node: str, payload: bytes) -> None:
        ack = decode_ack(payload)
        with self._lock:
            sent = self.pending.get(ack.id)
            self.trust.ack(node, ack, None if sent is None else sent[1])
            if self.pending.pop(ack.id, None) is None:
                return  # a duplicate (QoS 1) or one after its timeout, already counted
        for r in ack.results:
            if r.status == "applied":
                self.counters.applied += 1
            elif r.status == "rejected":
                self.counters.rejected += 1
                log.warning("%s rejected %s: %s", ack.node, r.tag, r.reason)
            else:
                self.counters.failed += 1
                self.failures.append(f"{ack.node} {r.tag}: {r.reason}")
                log.warning("%s failed to apply %s: %s", ack.node, r.tag, r.reason)

    # -------------------------------------------------------------------------------- control
    def _reset_strategy(self) -> None:
        from sim_env.graph.evaluate import GraphEnvInfo

        tw = self.twin
        info = GraphEnvInfo(self.cp, tw, tw.batch.coef, tw.series, 0, 0, 8760 * 10, tw.dt_h, tw.horizon,
                            list(tw.observation_names), list(tw.action_names), list(tw.kpi_names), self.S.copy(),
                            tw.batch.mask[0].copy())
        self.strategy.reset(info)

    def measure(self) -> list[str]:
        """Put the fresh measured levels into the state; returns the level tags that are stale."""
        now = now_ms()
        stale = []
        for n, (tag, m) in self.levels.items():
            v = self.state.fresh(tag, now, self.stale_after_ms)
            if v is None:
                stale.append(tag)
                continue
            from sim_env.plant.signals import to_unit

            self.S[n] = min(max(to_unit(v, m.unit, "1"), 0.0), 1.0) * m.capacity
        return stale

    def decide(self, t: int) -> tuple[np.ndarray, dict[str, float]]:
        """Action fractions and setpoints (tag -> value in the tag's unit) for step ``t``."""
        from sim_env.graph.evaluate import GraphStepInfo
        from sim_env.plant.signals import to_unit

        tw = self.twin
        tw.batch.S[0] = self.S
        tw.batch.t[0] = t % tw.batch.coef.shape[1]
        obs = tw.observe()[0]
        a = np.clip(np.asarray(self.strategy.act(obs, GraphStepInfo(self._step_k, int(tw.batch.t[0]), self.S.copy(),
                                                                      self._y)), dtype=float), 0.0, 1.0)
        for i, f in self.signals.held.items():
            a[i] = f
        sp = {}
        for tag, act in self.signals.actuators.items():
            spec = self.tags[tag]
            value = to_unit(a[act.action] * act.full, act.action_unit, act.unit)
            sp[tag] = float(min(max(value, spec.min), spec.max))
        return a, sp

    def safe(self) -> tuple[np.ndarray, dict[str, float]]:
        """Every setpoint at its park ``control.safe_default``, and the fractions that means."""
        a = np.zeros(self.cp.n_actions)
        for i, f in self.signals.held.items():
            a[i] = f
        sp = {}
        for tag, act in self.signals.actuators.items():
            sp[tag] = float(self.tags[tag].control.safe_default)
            a[act.action] = min(max(act.fraction(sp[tag]), 0.0), 1.0)
        return a, sp

    def publish(self, sp: dict[str, float], t: int) -> list[str]:
        """One command per node; returns the command ids."""
        by_node: dict[str, list[Setpoint]] = {}
        for tag, value in sp.items():
            by_node.setdefault(self.writes[tag], []).append(Setpoint(tag=tag, value=value))
        ids = []
        for node, sps in sorted(by_node.items()):
            if self.require_online and not self.online.get(node, False):
                self.counters.commands_held += 1
                self.counters.setpoints_held += len(sps)
                continue  # its session would drop the command: it falls back to safe defaults itself
            cid = f"ctl-{t}-{uuid.uuid4().hex[:8]}"
            cmd = Command(v=1, id=cid, ts=now_ms(), setpoints=sps, source="aisym-control")
            with self._lock:
                self.pending[cid] = (time.monotonic(), node, len(sps))
            # The broker counts the command's life down itself (MQTT 5 message expiry): a gateway
            # judges its age without trusting any wall clock, and a queued one expires on the broker.
            props = Properties(PacketTypes.PUBLISH)
            props.MessageExpiryInterval = max(1, int(cmd.ttl_s))
            self.client.publish(topics.command(self.park_id, node), encode(cmd), qos=1, properties=props)
            self.counters.commands += 1
            self.counters.setpoints += len(sps)
            ids.append(cid)
        return ids

    def step(self, t: int) -> dict:
        """Measure, decide (or hold safe defaults), publish, and follow the unmeasured stores."""
        stale = self.measure()
        blind = bool(stale)
        if blind and not self.blind:
            log.warning("blind: %s stale or missing; holding every setpoint at its safe default", ", ".join(stale))
        elif self.blind and not blind:
            log.info("levels fresh again: back to %s", getattr(self.strategy, "name", "the strategy"))
        self.blind = blind
        a, sp = self.safe() if blind else self.decide(t)
        ids = self.publish(sp, t)
        self.counters.steps += 1
        self.counters.blind_steps += int(blind)
        # the shadow twin follows what was commanded, for the stores no tag measures
        tw = self.twin
        tw.batch.S[0] = self.S
        tw.batch.t[0] = t % tw.batch.coef.shape[1]
        tw.batch.step(a[None, :])
        self.S = tw.batch.S[0].copy()
        self._y = tw.batch.Y[0].copy()
        self._step_k += 1
        self._expire_acks()
        rec = {"t": t, "wall_ms": now_ms(), "blind": blind, "stale": stale, "setpoints": sp, "commands": ids,
               "actions": a.tolist()}
        self.last = rec
        self.history.append(rec)
        return rec

    def setpoint_counts(self) -> dict:
        """What became of every setpoint decided, for a run's report: ``decided`` = ``sent`` + ``held``
        (its gateway's own status said offline); ``sent`` = ``applied`` + ``rejected`` + ``failed`` +
        ``timed_out`` + ``pending``; and the messages refused, by :data:`~.trust.REFUSALS` key."""
        c = self.counters
        with self._lock:
            pending = sum(n for _, _, n in self.pending.values())
        return {"decided": c.setpoints_decided, "sent": c.setpoints_sent, "held": c.setpoints_held,
                "applied": c.applied, "rejected": c.rejected, "failed": c.failed, "timed_out": c.setpoints_timed_out,
                "pending": pending, "commands": c.commands, "commands_held": c.commands_held,
                "command_timeouts": c.ack_timeouts, "refused": {k: c.refused.get(k, 0) for k in REFUSALS}}

    def _expire_acks(self) -> None:
        now = time.monotonic()
        with self._lock:
            old = [cid for cid, (sent, _, _) in self.pending.items() if now - sent > self.ack_timeout_s]
            n = sum(self.pending.pop(cid)[2] for cid in old)
        self.counters.ack_timeouts += len(old)
        self.counters.setpoints_timed_out += n

    def health(self) -> None:
        """Write the counters as the ``controller_health`` series (the contract lets a service account
        publish only its status over MQTT; the ingestor dead-letters anything else from it)."""
        c = self.counters
        counters = {"steps": c.steps, "commands": c.commands, "applied": c.applied, "rejected": c.rejected,
                    "failed": c.failed, "ack_timeouts": c.ack_timeouts, "blind_steps": c.blind_steps,
                    "blind": int(self.blind), "telemetry": c.telemetry, "commands_held": c.commands_held,
                    "setpoints_decided": c.setpoints_decided, "setpoints_sent": c.setpoints_sent,
                    "setpoints_held": c.setpoints_held, "setpoints_timed_out": c.setpoints_timed_out,
                    "refused": sum(c.refused.values()), **{f"refused_{k}": c.refused.get(k, 0) for k in REFUSALS}}
        sources = getattr(getattr(self.strategy, "learned", None), "sources", None)
        if sources is not None:  # mpc_learned: how many series its last plan read from InfluxDB, how many it learned
            counters["forecasts_stored"] = sum(v == "influx" for v in sources.values())
            counters["forecasts_learned"] = sum(v == "fallback" for v in sources.values())
        user = self.mqtt_settings.user
        self.last_health = counters  # a service account publishes only its status over MQTT (the contract)
        if self.influx is not None:
            fields = ",".join(f"{k}={float(v)}" for k, v in counters.items())
            try:
                self.influx.write([f"controller_health,park={self.park_id},node={user} {fields} {now_ms()}"])
            except Exception as e:  # the loop keeps controlling without its health series
                log.warning("controller_health not written: %s", e)

    # -------------------------------------------------------------------------------- running
    def restore(self) -> int:
        """After a restart: each level tag's last stored reading (they still have to be fresh)."""
        if self.influx is None:
            return 0
        try:
            n = load_latest(self.influx, [t for t, _ in self.levels.values()], self.state, self.trust)
        except Exception as e:
            log.warning("could not read the last levels from InfluxDB: %s", e)
            return 0
        self.counters.restored_from_influx = n
        return n

    def run(self, max_steps: int | None = None, poll_s: float = 0.05, health_every: int = 1) -> None:
        """Control at each new step of the clock until :meth:`stop` (or ``max_steps`` steps)."""
        s = self.mqtt_settings
        self.restore()
        self.client.connect_async(s.host, s.port, keepalive=30)
        self.client.loop_start()
        seen = None
        try:
            while not self._stop.is_set() and (max_steps is None or self.counters.steps < max_steps):
                t = self.clock()
                if t is None or t == seen:
                    self._stop.wait(poll_s)
                    continue
                seen = t
                if self.client.is_connected():
                    self.step(t)
                    if self.counters.steps % health_every == 0:
                        self.health()
                else:
                    self.counters.extra["steps_offline"] = self.counters.extra.get("steps_offline", 0) + 1
        finally:
            self.client.publish(topics.status(self.park_id, s.user), encode(Status(
                v=1, node=s.user, state="offline", ts=now_ms(), role="controller")), qos=1, retain=True)
            self.client.loop_stop()
            self.client.disconnect()

    def stop(self) -> None:
        self._stop.set()
