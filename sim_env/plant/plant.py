"""The software plant: a park's compiled twin served as Modbus TCP, Modbus RTU and OPC UA devices.

Each tick of the :class:`~sim_env.plant.clock.SimClock` the plant

1. reads every setpoint register (Modbus holding registers, OPC UA writable variables) as the
   gateway last wrote it, in the tag's park unit, and scales it to its action's fraction
   (:class:`~sim_env.plant.actuators.Actuator`); actions no tag drives are held;
2. steps the twin one ``dt_h`` with those actions;
3. computes every measured tag from the step's outputs (:mod:`sim_env.plant.signals`) and
   writes it into its device's registers, quantised by the register's type.

So a setpoint written between two ticks acts at the next step. Faults (:data:`~sim_env.plant.modbus.FAULTS`) are set
per device with :meth:`Plant.fault`, from the control socket, or with ``aisym plant-fault``
(:mod:`sim_env.plant.faults`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np
import yaml

from edge.gateway.config import load_config
from sim_env.graph.twin import GraphTwin

from .clock import SimClock
from .devices import write_profiles
from .faults import Faults
from .identity import gateway_takes_identity, identification, modbus_identity, opcua_identity
from .layout import Layout, gateway_config, plan
from .modbus import ModbusDevice, ModbusLine
from .opcua import OpcUaDevice
from .ports import listen_control, start_line, start_opcua, verify_devices
from .signals import SignalState, park_signals

log = logging.getLogger("aisym.plant")
SAMPLE = Path(__file__).resolve().parents[2] / "edge" / "gateway" / "sample.yaml"


def named_devices(devices_file: str | Path | None, graph):
    """The gateway config that names shipped profiles for this park (``"auto"``: the sample
    config when it is written for this park), loaded and checked against the park; or None."""
    if devices_file is None:
        return None
    if devices_file == "auto":
        head = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
        if head.get("park") != graph.id:
            return None
        devices_file = SAMPLE
    return load_config(devices_file, park=graph)


class Plant(Faults):
    """A park's twin behind real protocol servers (see the module docstring).

    :param park: park file (v1 or v2) or None for Kråkøya
    :param out: folder for the generated profiles, the gateway config, ``plant.json`` and the pty links
    :param speed: simulated seconds per wall second
    :param devices_file: gateway config naming shipped profiles (``"auto"``, a path, or None)
    :param rtu_asset: asset served over RTU (default from the devices file)
    :param opcua_asset: asset served over OPC UA (default from the devices file)
    :param hold: fraction at which actions that no tag drives are held (None: flares 0, the rest 1)
    :param start: the twin's first step (hour of its generated year)
    :param exo_seed: seed of the generated weather and price year
    :param poll_s: poll period written into the gateway config (wall seconds)
    :param restart_s: how long a restarting device is gone (wall seconds)
    :param control_port: TCP port of the control socket (0: a free one)
    :param broker: the gateway config's broker section (host, port, username, optional tls; None:
        127.0.0.1:1883 as node ``gateway``, see :func:`~sim_env.plant.layout.gateway_config`)
    """

    def __init__(self, park: str | Path | None = None, out: str | Path = "plant-out", *, speed: float = 3600.0,
                 devices_file: str | Path | None = "auto", rtu_asset: str | None = None,
                 opcua_asset: str | None = None, hold: float | None = None, start: int = 0, exo_seed: int = 0,
                 poll_s: float = 1.0, restart_s: float = 2.0, control_port: int = 0, broker: dict | None = None):
        self.park_file = Path(park).resolve() if park else None
        self.out = Path(out).resolve()
        self.twin = GraphTwin(1, park, start=start, exo_seed=exo_seed, episode_hours=10 * 8760.0)
        self.twin.reset()
        self.cp = self.twin.cp
        self.tags = dict(self.cp.graph.tags)
        self.signals = park_signals(self.cp, hold)
        self.state = SignalState(self.signals, self.cp)
        self.layout: Layout = plan(self.tags, self.cp.graph.assets, self.signals,
                                   named_devices(devices_file, self.cp.graph), rtu_asset, opcua_asset)
        self.clock = SimClock(speed, self.twin.dt_h)
        self.poll_s, self.restart_s = poll_s, restart_s
        self.broker = broker
        self.control_port = control_port  # 0: the system picks one when the plant listens
        self.modbus = {d.id: ModbusDevice(d, self.tags) for d in self.layout.devices}
        self.lines: dict[str, ModbusLine] = {}
        self.opcua: OpcUaDevice | None = None
        self.history: deque[dict] = deque(maxlen=512)
        self.values: dict[str, float] = {}
        self.actions = np.zeros((1, self.cp.n_actions))
        self._socat: subprocess.Popen | None = None
        self._tasks: list[asyncio.Task] = []
        self._stop: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.wall0 = 0.0

    # ---------------------------------------------------------------- wiring
    @property
    def serial_plant(self) -> Path:
        return self.out / "tty-plant"

    @property
    def serial_gateway(self) -> Path:
        return self.out / "tty-gateway"

    def _pty_pair(self) -> None:
        if not shutil.which("socat"):
            raise RuntimeError("socat is not installed (apt-get install socat): it gives the RTU line its pty pair")
        self.out.mkdir(parents=True, exist_ok=True)
        for p in (self.serial_plant, self.serial_gateway):
            p.unlink(missing_ok=True)
        self._socat = subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={self.serial_plant}", f"pty,raw,echo=0,link={self.serial_gateway}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while not (self.serial_plant.exists() and self.serial_gateway.exists()):
            if time.monotonic() > deadline or self._socat.poll() is not None:
                raise RuntimeError("socat did not create the pty pair")
            time.sleep(0.02)

    def write_files(self) -> Path:
        """Generated profiles, the gateway config and ``plant.json`` under ``out``; returns the config."""
        self.out.mkdir(parents=True, exist_ok=True)
        write_profiles(self.layout.devices, self.out / "profiles", self.cp.graph.id)
        cfg = gateway_config(self.layout, self.cp.graph.id, self.park_file, self.out / "profiles",
                             str(self.serial_gateway), self.opcua.url if self.opcua else None, self.out, self.tags,
                             self.poll_s, time_scale=self.clock.speed, broker=self.broker,
                             identities=self.identities() if gateway_takes_identity() else None)
        path = self.out / "gateway.yaml"
        b = cfg["broker"]
        head = (f"# Written by `aisym plant`: polls this plant's devices and publishes to the broker on\n"
                f"# {b['host']}:{b['port']} as node {cfg['node']} (password in ${b['password_env']}); setpoint ramps\n"
                f"# count plant seconds at its speed. `aisym gateway validate` checks it against the park.\n")
        path.write_text(head + yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
        load_config(path, park=self.cp.graph)  # the loop must be wired without hand edits: refuse a bad one here
        (self.out / "plant.json").write_text(json.dumps(self.describe(), indent=2), encoding="utf-8")
        return path

    def identities(self) -> dict[str, dict]:
        """Device id -> the identity it serves (:mod:`sim_env.plant.identity`)."""
        park_id = self.cp.graph.id
        out = {d.id: modbus_identity(park_id, d) for d in self.layout.devices}
        if self.layout.opcua_asset:
            out[self.layout.opcua_id] = opcua_identity(park_id, self.layout.opcua_asset)
        return out

    def describe(self) -> dict:
        """Where each device listens, and the clock (what ``plant.json`` holds)."""
        devs = []
        for d in self.layout.devices:
            where = {"port": d.port} if d.transport == "tcp" else {"serial": str(self.serial_gateway)}
            devs.append({"id": d.id, "asset": d.asset, "transport": d.transport, "unit_id": d.unit_id,
                         "profile": d.profile.id, "generated": d.generated, **where,
                         "identity": modbus_identity(self.cp.graph.id, d),
                         "tags": sorted(v.tag for v in d.values if v.tag)})
        if self.opcua is not None:
            devs.append({"id": self.layout.opcua_id, "asset": self.opcua.asset, "transport": "opcua",
                         "url": self.opcua.url, "identity": {"application_uri": self.opcua.application_uri},
                         "nodes": self.opcua.nodes})
        return {"park": self.cp.graph.id, "control_port": self.control_port, "speed": self.clock.speed,
                "dt_h": self.clock.dt_h, "gateway_config": str(self.out / "gateway.yaml"), "devices": devs}

    # ---------------------------------------------------------------- the step
    def setpoints(self) -> dict[str, float]:
        """Every setpoint as its device holds it now (park units)."""
        out: dict[str, float] = {}
        for md in self.modbus.values():
            for v in md.device.values:
                if v.setpoint and v.tag:
                    out[v.tag] = md.setpoint(v)
        if self.opcua is not None:
            out.update({t: self.opcua.values[t] for t in self.opcua.nodes if self.tags[t].control})
        return out

    async def tick(self) -> dict:
        """One twin step: setpoints -> actions -> step -> registers. Returns the step's record."""
        sp = self.setpoints()
        A = self.actions
        for a, f in self.signals.held.items():
            A[0, a] = f
        for tag, act in self.signals.actuators.items():
            A[0, act.action] = act.fraction(sp.get(tag, self.tags[tag].control.safe_default))
        t = int(self.twin.t[0])
        ser = int(self.twin.batch.ser[0])
        self.twin.step(A)
        series_now = {k: float(v[ser % v.shape[0], t]) for k, v in self.twin.series.items()}
        self.values = self.state.values(self.twin.Y[0], self.twin.S[0], self.clock.dt_h, sp, series_now)
        for md in self.modbus.values():
            for v in md.device.values:
                if v.tag and not v.setpoint and v.tag in self.values:
                    md.image.set_park(v, self.values[v.tag])
        if self.opcua is not None:
            await self.opcua.publish(self.values)
        self.clock.ticked()
        rec = {"step": self.clock.steps, "t": t, "wall": time.monotonic(), "setpoints": sp,
               "actions": A[0].copy(), "values": dict(self.values), "y": self.twin.Y[0].copy(),
               "S": self.twin.S[0].copy()}
        self.history.append(rec)
        return rec

    async def _heartbeats(self) -> None:
        """Heartbeat registers (``stale_after_s`` and no tag, as the PLC template's) count wall
        seconds, as a PLC's program does, whatever the simulated speed."""
        beats = [(md, v) for md in self.modbus.values() for v in md.device.values
                 if v.tag is None and v.reg.stale_after_s is not None]
        while beats:
            n = int(time.monotonic() - self.wall0) & 0xFFFF
            for md, v in beats:
                md.image.put(v, n)
            await asyncio.sleep(1.0)

    def status(self) -> dict:
        """The clock, each device's mode and counters, and the last step's values."""
        devs = {k: {"mode": m.mode, "requests": m.requests, "refused": m.refused} for k, m in self.modbus.items()}
        if self.opcua is not None:
            devs[self.layout.opcua_id] = {"mode": self.opcua.mode, "refused": self.opcua.refused}
        return {"steps": self.clock.steps, "sim_hours": self.clock.sim_hours, "sim_time": self.clock.now.isoformat(),
                "wall_s": time.monotonic() - self.wall0 if self.wall0 else 0.0, "late": self.clock.late,
                "devices": devs, "values": self.values}

    # ---------------------------------------------------------------- running
    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)

    async def run(self, ready=None, max_steps: int | None = None) -> None:
        """Serve until :meth:`stop` (or ``max_steps`` steps); ``ready()`` is called once listening.

        Every listening socket is bound before anything is announced, and each TCP device is asked
        who it is over the wire: a port that is not its device's own stops the start with
        :class:`~sim_env.plant.modbus.PortTaken` naming both (:mod:`sim_env.plant.ports`).
        """
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            control = await listen_control(self)
            await self._serve_devices()
            self.wall0 = time.monotonic()
            self.clock.begin()
            await self.tick()  # registers hold real values before the first poll
            await verify_devices(self)
            # plant.json announces the plant: only once every device has said who it is (a fault
            # command read from it before then made a device answer with an error mid-check)
            self.write_files()
            self._spawn(self._heartbeats())
            if ready is not None:
                ready()
            while not self._stop.is_set() and (max_steps is None or self.clock.steps < max_steps):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.clock.wait_s())
                if not self._stop.is_set():
                    await self.tick()
            control.close()
        finally:
            await self._shutdown()

    async def _serve_devices(self) -> None:
        """OPC UA, then one Modbus server per TCP device and one for the RTU line, each listening."""
        park_id = self.cp.graph.id
        if self.layout.opcua_asset:
            self.opcua = await start_opcua(self, OpcUaDevice, opcua_identity(park_id, self.layout.opcua_asset))
        idents = {d.id: identification(modbus_identity(park_id, d), d.profile.model) for d in self.layout.devices}
        rtu = [self.modbus[d.id] for d in self.layout.devices if d.transport == "rtu"]
        for d in self.layout.devices:
            if d.transport == "tcp":
                line = ModbusLine([self.modbus[d.id]], port=d.port, identities=idents)
                await start_line(self, d.id, line)
                d.port = line.port
        if rtu:
            self._pty_pair()
            self.lines[" rtu"] = ModbusLine(rtu, serial=str(self.serial_plant), identities=idents)  # no id has a space
            await self.lines[" rtu"].start()

    async def _shutdown(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        for line in self.lines.values():
            with contextlib.suppress(Exception):
                await line.stop()
        if self.opcua is not None:
            with contextlib.suppress(Exception):
                await self.opcua.stop()
        if self._socat is not None:
            self._socat.terminate()
            try:
                self._socat.wait(5)
            except subprocess.TimeoutExpired:
                self._socat.kill()
            self._socat = None

    def stop(self) -> None:
        """Ask a running plant to stop (from any thread)."""
        if self.loop is not None and self._stop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._stop.set)

    def start_thread(self, timeout_s: float = 60.0) -> threading.Thread:
        """Run the plant in a background thread with its own event loop; returns once it serves.

        Raises RuntimeError (with the plant's own error) when it failed to start in ``timeout_s``.
        """
        ready = threading.Event()
        failed: list[BaseException] = []

        def main() -> None:
            try:
                asyncio.run(self.run(ready.set))
            except BaseException as e:  # handed to the caller below
                failed.append(e)
                ready.set()

        th = threading.Thread(target=main, name="aisym-plant", daemon=True)
        th.start()
        if not ready.wait(timeout_s) or failed:
            raise RuntimeError(f"the plant did not start: {failed[0] if failed else 'timeout'}")
        self.thread = th
        return th

    def join(self, timeout_s: float = 20.0) -> None:
        """Stop a plant started with :meth:`start_thread` and wait for it."""
        self.stop()
        th = getattr(self, "thread", None)
        if th is not None:
            th.join(timeout_s)
