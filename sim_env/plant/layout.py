"""Which device serves which tag, over which transport, and the gateway config that polls them.

- **TCP**: one pymodbus server per device, each on its own port of 127.0.0.1, unit id 1. Why one
  server per device rather than one server with many unit ids: on a plant network each PLC or
  meter is its own host; a device that restarts drops its own TCP connection and nobody
  else's, and a silent one costs only its own poller (the gateway gives every TCP device its own
  connection, docs/gateway.md "Polling").
- **RTU**: one serial line (a socat pty pair) with unit ids 1, 2, ... as on an RS485 line:
  the devices the devices file puts on a serial bus (the sample's meters), and every device of
  ``rtu_asset`` (default without a devices file: the first asset that is not on OPC UA).
- **OPC UA**: every tag of one asset (``opcua_asset``) as a variable of an asyncua server.

:func:`gateway_config` writes the gateway config that polls exactly this layout (profiles from
``profiles_dir``, one TCP bus per device, the serial bus on the pty's other end, the OPC UA
endpoint, every setpoint register in ``setpoints.writes``), so the loop is wired without edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edge.gateway.config import Resolved, SerialBus

from .devices import Device, from_devices_file, generated_device
from .signals import Signals

DEFAULT_NODE = "gateway"  # the node account `aisym services up` creates by default


class LayoutError(ValueError):
    """A plant layout option names something the park does not have."""


@dataclass
class Layout:
    """The plant's devices.

    :param devices: Modbus devices (TCP and RTU)
    :param opcua_asset: the asset served over OPC UA (None: none)
    :param opcua_nodes: that asset's tags -> node id strings (``ns=2;s=...``)
    :param rtu_asset: the asset on the serial line
    """

    devices: list[Device]
    opcua_asset: str | None
    opcua_nodes: dict[str, str] = field(default_factory=dict)
    rtu_asset: str | None = None

    def device(self, device_id: str) -> Device:
        for d in self.devices:
            if d.id == device_id:
                return d
        raise KeyError(f"no device {device_id!r}; devices: {', '.join(self.names())}")

    def names(self) -> list[str]:
        return [d.id for d in self.devices] + ([self.opcua_id] if self.opcua_asset else [])

    @property
    def opcua_id(self) -> str:
        return f"{self.opcua_asset}-opcua"


def _default_opcua(assets: list[str], park_tags: dict, named: Resolved | None, signals: Signals) -> str:
    if named is not None:
        for ep in named.config.opcua:
            return ep.nodes[0].tag.split(".", 1)[0]
    wired = sorted({t.split(".", 1)[0] for t in signals.actuators})
    return wired[0] if wired else assets[0]


def _serial_ids(named: Resolved | None) -> set[str]:
    """Devices the named config puts on a serial bus (they stay on the plant's RTU line)."""
    if named is None:
        return set()
    return {d.id for d in named.config.devices if isinstance(named.config.buses.get(d.bus), SerialBus)}


def plan(park_tags: dict, assets: list[str], signals: Signals, named: Resolved | None = None,
         rtu_asset: str | None = None, opcua_asset: str | None = None) -> Layout:
    """Devices for every tag of the park (see the module docstring).

    :param park_tags: ``<asset>.<tag>`` -> tag
    :param assets: the park's assets
    :param signals: the park's signals (for the generated profiles' descriptions)
    :param named: a gateway config naming shipped profiles for some tags (None: all generated)
    :param rtu_asset: asset whose devices join the RTU line (default: see the module docstring)
    :param opcua_asset: asset served over OPC UA (default: the named config's OPC UA asset, else the
        first asset with a wired setpoint)
    """
    for opt, value in (("--rtu-asset", rtu_asset), ("--opcua-asset", opcua_asset)):
        if value is not None and value not in assets:
            raise LayoutError(f"{opt} {value}: no such asset; assets: {', '.join(assets)}")
    opcua = opcua_asset or _default_opcua(assets, park_tags, named, signals)
    on_line = _serial_ids(named)
    rtu = rtu_asset or (None if on_line else next((a for a in assets if a != opcua), None))
    if rtu is not None and rtu == opcua:
        raise LayoutError(f"--rtu-asset and --opcua-asset are both {rtu}: one asset is served one way")
    devices = [d for d in (from_devices_file(named) if named else []) if d.asset != opcua]
    served = {v.tag for d in devices for v in d.values if v.tag}
    taken = {d.id for d in devices}
    for asset in assets:
        if asset == opcua:
            continue
        rest = [t for t in park_tags if t.split(".", 1)[0] == asset and t not in served]
        if rest:
            dev = generated_device(asset, rest, signals, park_tags)
            n = 2
            while dev.id in taken:
                dev.id, n = f"{asset}-{n}"[:40], n + 1
            taken.add(dev.id)
            devices.append(dev)
    unit = 0
    for d in devices:
        if d.asset == rtu or d.id in on_line:
            unit += 1
            d.transport, d.unit_id = "rtu", unit
    nodes = {}
    if named is not None:
        nodes = {n.tag: n.node_id for ep in named.config.opcua for n in ep.nodes if n.tag.startswith(f"{opcua}.")}
    for t in park_tags:
        if t.startswith(f"{opcua}.") and t not in nodes:
            nodes[t] = f"ns=2;s={t}"
    return Layout(devices, opcua, nodes, rtu)


def gateway_config(layout: Layout, park_id: str, park_file: Path | None, profiles_dir: Path, serial_port: str | None,
                   opcua_url: str | None, out: Path, park_tags: dict, poll_s: float = 1.0, *, time_scale: float = 1.0,
                   broker: dict | None = None, identities: dict[str, dict] | None = None) -> dict:
    """The gateway config (as a dict to dump as YAML) that polls ``layout``.

    :param time_scale: the plant's speed (plant seconds per wall second): ramp limits count plant seconds
    :param broker: the broker section (None: a plain local Mosquitto on 127.0.0.1:1883 with the node
        account ``gateway`` that ``aisym services up`` creates, password in ``AISYM_MQTT_PASSWORD``)
    :param identities: device id -> its ``identity`` (:mod:`sim_env.plant.identity`); None: none written
    """
    buses: dict[str, dict] = {}
    devices, writes = [], {}
    identities = identities or {}
    for d in layout.devices:
        if d.transport == "rtu":
            bus = "rtu"
            buses[bus] = {"type": "serial", "port": serial_port, "baudrate": 19200, "timeout_s": 0.5}
        else:
            bus = d.id
            buses[bus] = {"type": "tcp", "host": "127.0.0.1", "port": d.port, "timeout_s": 1.0}
        devices.append({"id": d.id, "bus": bus, "profile": d.profile.id, "unit_id": d.unit_id, "poll_s": poll_s,
                        "max_backoff_s": max(4 * poll_s, 2.0), "tags": d.mapping,
                        **({"identity": identities[d.id]} if d.id in identities else {})})
        for v in d.values:
            if v.setpoint and v.tag and v.reg.write_fc is not None:
                writes.setdefault(v.tag, f"{d.id}.{v.reg.name}")
    broker = broker or {"host": "127.0.0.1", "port": 1883, "username": DEFAULT_NODE}
    cfg: dict = {
        "node": broker["username"],  # the broker's ACL lets an account publish under its own node id only
        "park": park_id,
        "park_file": str(park_file) if park_file else None,
        "profiles_dir": str(profiles_dir),
        "broker": {"password_env": "AISYM_MQTT_PASSWORD", "keepalive_s": 10, **broker},
        "spool": {"path": str(out / "gateway-spool.db"), "fsync": "normal"},
        "health_period_s": 10.0,
        "buses": buses,
        "devices": devices,
        "opcua": [],
        "setpoints": {"silence_s": 900.0, "writes": writes, "time_scale": time_scale},
    }
    if cfg["park_file"] is None:
        del cfg["park_file"]
    if layout.opcua_asset and opcua_url:
        ident = identities.get(layout.opcua_id)
        cfg["opcua"] = [{"id": layout.opcua_id, "url": opcua_url, "publishing_ms": round(poll_s * 1000),
                         "timeout_s": 4.0, "max_backoff_s": 5.0, **({"identity": ident} if ident else {}),
                         "nodes": [{"node_id": n, "tag": t, **({"writable": True} if park_tags[t].control else {})}
                                   for t, n in layout.opcua_nodes.items()]}]
    return cfg
