"""The gateway process: pollers -> spool -> MQTT, commands -> setpoint writes, health counters.

Every input task writes its readings to the spool before anything is sent, so what a device
answered is either in the spool or acknowledged by the broker, whatever dies when.

No input task dies silently: each runs under a supervisor that logs a crash with its traceback,
counts it (health ``task_restarts``) and starts the task again after a short backoff. A task
that crashes more than ``restart_limit`` times within its window ends the run with
:class:`TaskFailed`: ``aisym gateway run`` then exits 1, so systemd sees a failed unit and
restarts the whole process (scripts/aisym-gateway.service). A full spool disk is not a crash:
the spool pauses and resumes by itself (:meth:`~edge.gateway.spool.Spool.store`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from aisym.contract import topics

from .clock import GatewayClock
from .config import Device, Resolved, SerialBus, park_limits
from .modbus import DevicePoller, Link, ReadingTuple, Watcher
from .mqtt import Uplink
from .opcua import OpcUaInput
from .setpoints import SetpointManager, Writer
from .spool import Spool
from .systemd import Notifier
from .units import Conversion

log = logging.getLogger("aisym.gateway")


class TaskFailed(RuntimeError):
    """A gateway task kept crashing: the process should exit non-zero (systemd restarts it)."""


class Gateway:
    """Builds every part from a validated config; :meth:`run` runs until cancelled.

    :param resolved: config with park and profiles (from :func:`~edge.gateway.config.load_config`)
    :param clock: the gateway's timeline (tests pass one with a steppable wall clock)
    """

    #: (crashes, seconds): a task crashing more often than this gives up the run (TaskFailed)
    restart_limit: tuple[int, float] = (5, 600.0)

    def __init__(self, resolved: Resolved, clock: GatewayClock | None = None):
        self.resolved = resolved
        cfg = resolved.config
        resolved.check_secrets()  # a missing password fails here, before the spool file exists
        # clock_check false trusts the system clock: its steps are then adopted at once
        self.clock = clock or (GatewayClock() if cfg.clock_check else GatewayClock(synced=lambda: True))
        self.task_restarts = 0
        self.spool = Spool(cfg.spool.path, cfg.spool.max_readings, cfg.spool.fsync)
        self.uplink = Uplink(cfg.broker, cfg.park, cfg.node, self.spool, on_command=self._on_command, now_ms=self.clock.now_ms)
        # Health right after each (re)connection: the cloud sees the backlog before it drains.
        self.uplink.on_connected = lambda: self.uplink.health(self.counters())
        self.pollers: dict[str, DevicePoller] = {}
        self.opcua: dict[str, OpcUaInput] = {}
        self._links: dict[str, Link] = {}
        units = {t: tag.unit for t, tag in resolved.park.tags.items()}
        for dev in cfg.devices:
            link = self._link_for(dev)
            maps = dev.tag_maps()
            convs = {v: resolved.conversion(dev, v) for v in maps}
            # setpoint targets are read on every poll too: a device that restarted with its own
            # default is given the last accepted setpoint again (SetpointManager.observe)
            watch: dict[str, Watcher] = {}
            for tag in cfg.setpoints.writes:
                wdev, reg, wconv = resolved.write_target(tag)
                if wdev.id == dev.id:
                    convs.setdefault(reg.name, wconv)
                    watch[reg.name] = self._watcher(tag, convs[reg.name], wconv)
            park_tags = resolved.park.tags
            self.pollers[dev.id] = DevicePoller(
                dev,
                resolved.profile_of(dev),
                link,
                {v: c.factor for v, c in convs.items()},
                {v: units[m.tag] for v, m in maps.items()},
                self._store,
                offsets={v: c.offset for v, c in convs.items() if c.offset},
                bounds={v: (park_tags[m.tag].min, park_tags[m.tag].max) for v, m in maps.items()},
                watch=watch,
                now_ms=self.clock.now_ms,
            )
        for ep in cfg.opcua:
            bounds = {n.tag: (resolved.park.tags[n.tag].min, resolved.park.tags[n.tag].max) for n in ep.nodes}
            self.opcua[ep.id] = OpcUaInput(ep, units, self._store, bounds, now_ms=self.clock.now_ms)
        self.setpoints = SetpointManager(resolved.park, self._writers(), cfg.setpoints.silence_s, cfg.node, self._send_ack,
                                         cfg.setpoints.time_scale, now_ms=self.clock.now_ms)
        self._tasks: list[asyncio.Task[Any]] = []
        self._inputs: list[asyncio.Task[Any]] = []

    def _link_for(self, dev: Device) -> Link:
        bus = self.resolved.config.buses[dev.bus]
        if isinstance(bus, SerialBus):  # one line, one client, shared under a lock
            if dev.bus not in self._links:
                self._links[dev.bus] = Link(bus)
            return self._links[dev.bus]
        link = Link(bus)  # TCP: a connection per device, so a slow one cannot hold the others up
        self._links[f"{dev.bus}/{dev.id}"] = link
        return link

    def _watcher(self, tag: str, read: Conversion, write: Conversion) -> Watcher:
        """Hands each poll's value of a setpoint register to the setpoint manager, in the
        setpoint tag's unit (the register may also be published under another tag's unit)."""

        def seen(value: float, at: float) -> None:
            self.setpoints.observe(tag, value if read == write else write.to_park(read.to_device(value)), at)

        return seen

    def _writers(self) -> dict[str, Writer]:
        cfg = self.resolved.config
        writers: dict[str, Writer] = {}
        for tag in cfg.setpoints.writes:
            dev, reg, conv = self.resolved.write_target(tag)  # validated: the units convert
            poller = self.pollers[dev.id]

            async def write(v: float, p: DevicePoller = poller, name: str = reg.name, c=conv) -> float:
                return await p.write(name, v, c)

            write.resolution = 0.0 if reg.type.startswith("float") else abs(reg.scale * conv.factor)  # type: ignore[attr-defined]
            if reg.min is not None or reg.max is not None:  # the device's own limits, in park units
                where = f"{dev.profile}.{reg.name}"
                write.limits = (*park_limits(reg, conv), where)  # type: ignore[attr-defined]
            writers[tag] = write
        for ep in cfg.opcua:
            for node in ep.nodes:
                if node.writable:

                    async def write_ua(v: float, inp: OpcUaInput = self.opcua[ep.id], nid: str = node.node_id) -> float:
                        return await inp.write(nid, v)

                    writers[node.tag] = write_ua
        return writers

    # ------------------------------------------------------------ plumbing
    def _store(self, readings: list[ReadingTuple]) -> None:
        if readings:
            # a full disk pauses the spool (readings held in memory) instead of raising
            self.spool.store(readings, ts_synced=self.clock.synced() if self.resolved.config.clock_check else True)
            self.uplink.wake()

    def _on_command(self, payload: bytes, retained: bool = False, expiry_left_s: float | None = None) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(self.setpoints.handle(payload, retained, expiry_left_s)))
        self._tasks = [t for t in self._tasks if not t.done()]

    def _send_ack(self, payload: bytes) -> None:
        cfg = self.resolved.config
        self.uplink.publish_json(topics.ack(cfg.park, cfg.node), payload)

    def counters(self) -> dict[str, float]:
        """Health counters: spool, uplink, per device and setpoint refusals (``gateway/...`` names)."""
        c: dict[str, float] = {
            "queued": len(self.spool),
            "queued_total": self.spool.counters["queued_total"],
            "sent": self.spool.counters["sent"],
            "dropped": self.spool.counters["dropped"],
            "inflight": len(self.uplink.inflight),
            "seq_last": self.spool.last_seq(),  # the gateway's own reading counter: count completeness against it
            "last_seq": self.spool.last_seq(),  # the same, under the name older readers know
            "spool_paused": 1.0 if self.spool.paused else 0.0,
            "spool_full_errors": self.spool.full_errors,
            "spool_held": self.spool.held,
            "spool_lost": self.spool.lost,
            "task_restarts": self.task_restarts,
        }
        c.update(self.clock.counters())
        c.update(self.uplink.counters)
        c.update(self.setpoints.counters)
        for dev_id, p in self.pollers.items():
            key = dev_id.replace("-", "_")
            c[f"dev_{key}_polls"] = p.stats.polls
            c[f"dev_{key}_errors"] = p.stats.errors
            c[f"dev_{key}_online"] = 1.0 if p.stats.state == "online" else 0.0
            c[f"dev_{key}_blocks_down"] = p.stats.blocks_down
            if p.device.identity is not None:
                c[f"dev_{key}_identity_refused"] = 1.0 if p.stats.identity_refused else 0.0
        for ep_id, o in self.opcua.items():
            key = ep_id.replace("-", "_")
            c[f"opc_{key}_connects"] = o.connects
            c[f"opc_{key}_online"] = 1.0 if o.state == "online" else 0.0
            if o.endpoint.identity is not None:
                c[f"opc_{key}_identity_refused"] = 1.0 if o.state == "refused" else 0.0
        return {k[:48]: v for k, v in c.items()}

    async def _health_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resolved.config.health_period_s)
            self.uplink.wake()  # a safety net: every change already wakes the drain loop
            if self.spool.paused:
                self.spool.store([])  # try the disk again even while no input stores anything
            if self.uplink.connected.is_set():
                self.uplink.health(self.counters())

    def stop_inputs(self) -> None:
        """Stop polling (the uplink keeps draining the spool): for a drain before maintenance."""
        for t in self._inputs:
            t.cancel()

    async def run(self) -> None:
        """Run every task until cancelled; then publish ``offline`` and close the spool."""
        await self.uplink.start()
        core = [asyncio.create_task(c) for c in (self.uplink.drain(), self._health_loop(), self.setpoints.watchdog())]
        self._inputs = [asyncio.create_task(self._supervise(f"poller {k}", p.run, p.stats)) for k, p in self.pollers.items()]
        self._inputs += [asyncio.create_task(self._supervise(f"OPC UA {k}", o.run, o)) for k, o in self.opcua.items()]
        try:
            # the core tasks never return; an input that gives up (TaskFailed) ends the run too,
            # while inputs cancelled by stop_inputs() do not
            done, _ = await asyncio.wait(core + self._inputs, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                if not t.cancelled() and t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]
            await asyncio.gather(*core)
        finally:
            for t in core + self._inputs + self._tasks:
                t.cancel()
            await asyncio.gather(*core, *self._inputs, *self._tasks, return_exceptions=True)
            await self.uplink.stop()
            for link in self._links.values():
                link.close()
            self.spool.close()


    async def _supervise(self, name: str, run: Callable[[], Coroutine[Any, Any, None]], status: Any) -> None:
        """Run ``run()`` forever: restart it after a crash (logged, counted, backoff 1, 2, 4 ... 30 s);
        raise :class:`TaskFailed` when it crashed more than :attr:`restart_limit` allows.

        :param status: the input's state holder; its ``state`` reads ``crashed`` until the restart
        """
        limit, window = self.restart_limit
        crashes: deque[float] = deque()
        while True:
            try:
                await run()
                raise RuntimeError("returned")  # an input runs forever: returning is a bug too
            except asyncio.CancelledError:
                raise
            except Exception as e:
                now = time.monotonic()
                crashes.append(now)
                while crashes and now - crashes[0] > window:
                    crashes.popleft()
                status.state = "crashed"
                limit, window = self.restart_limit
                if len(crashes) >= limit:
                    log.critical("%s crashed %d times in %g s, giving up: %r", name, len(crashes), window, e)
                    raise TaskFailed(f"{name} crashed {len(crashes)} times in {window:g} s: {e!r}") from e
                self.task_restarts += 1
                log.error("%s crashed (%r): restarting it (restart %d)", name, e, self.task_restarts, exc_info=e)
                await asyncio.sleep(min(2.0 ** (len(crashes) - 1), 30.0))


async def serve(resolved: Resolved) -> int:
    """Run a gateway until SIGTERM/SIGINT (what ``aisym gateway run`` and systemd call).

    Returns the exit code: 0 after a signal, 1 when a task kept crashing (:class:`TaskFailed`) or
    the run failed otherwise, so that systemd marks the unit failed and restarts it.
    """
    gw = Gateway(resolved)
    systemd = Notifier()
    task = asyncio.create_task(gw.run())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, task.cancel)
    systemd.notify("READY=1")
    pinger = asyncio.create_task(systemd.watchdog())
    try:
        await task
    except asyncio.CancelledError:
        return 0
    except Exception as e:
        log.critical("gateway stopped: %s", e, exc_info=not isinstance(e, TaskFailed))
        return 1
    finally:
        systemd.notify("STOPPING=1")
        pinger.cancel()
    return 0
