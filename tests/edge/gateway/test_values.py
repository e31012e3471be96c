"""Issue 18, finding 15: scaled integers stored at their scale's decimals, probe values in plain notation."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

from typer.testing import CliRunner

from aisym.cli import app
from edge.gateway.config import TcpBus
from edge.gateway.modbus import Link
from edge.gateway.units import decimals_of
from edge.profiles import Profile, Register

from .peers import ModbusPeer
from .test_polling import poller

runner = CliRunner()


def test_decimals_of_a_scale_given_as_float_or_text():
    assert [decimals_of(x) for x in (0.1, "0.1", 1, 10, 0.25, "0.001", 1e-3, 2.5e-5)] == [1, 1, 0, 0, 2, 3, 3, 6]
    assert decimals_of(1 / 3) is None  # no short decimal form: not rounded at all


def test_scaled_integers_are_stored_at_their_scales_decimals():
    """Before: 623 x 0.1 was stored as 62.300000000000004 (and 3 x 0.1 + 0.2 as 0.5000000000000001)."""
    regs = [
        Register(name="o2", fc=3, address=0, type="int16", scale=0.1),
        Register(name="hours", fc=3, address=1, type="uint32", scale=0.01, offset=0.2),
        Register(name="volts", fc=3, address=3, type="float32"),
    ]
    profile = Profile(id="p", manufacturer="t", model="t", registers=regs)
    with ModbusPeer([1]) as peer:
        peer.set(1, 3, 0, [623, 0, 3, *struct.unpack(">HH", struct.pack(">f", 0.1))])
        link = Link(TcpBus(type="tcp", host="127.0.0.1", port=peer.port, timeout_s=1))
        p = poller(profile, link, [].extend)

        async def once():
            try:
                return await p.poll_once()
            finally:
                link.close()

        readings = {t: v for t, v, _u, _ts, _q in asyncio.run(once())}
    assert repr(readings["t.o2"]) == "62.3" and repr(readings["t.hours"]) == "0.23"
    assert readings["t.volts"] == struct.unpack(">f", struct.pack(">f", 0.1))[0]  # a float is never rounded


def test_probe_prints_plain_notation():
    """Before: 250 V printed as 2.5e+02."""
    profile = Path(__file__).resolve().parents[3] / "hardware" / "devices" / "aisym_site_plc.yaml"
    with ModbusPeer([1]) as peer:
        peer.set(1, 3, 0, list(struct.unpack(">4H", struct.pack(">2f", 250.0, 1e-7))))
        args = ["gateway", "probe", "--profile", str(profile), "--host", "127.0.0.1", "--port", str(peer.port)]
        res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    values = {row.split("│")[1].strip(): row.split("│")[4].strip() for row in res.output.splitlines() if row.count("│") > 4}
    assert values["setpoint"] == "250" and values["feedback"] == "0.0000001"
    assert not [v for v in values.values() if "e" in v.lower()]  # no exponent anywhere


def test_health_past_the_contracts_counter_limit_is_cut_and_says_so():
    """A gateway with many devices has more counters than a Health message may carry: it must still
    publish one (the health loop is a core task: a refused message would end the run)."""
    from aisym.contract import decode_health
    from aisym.contract.payload import MAX_HEALTH_COUNTERS
    from edge.gateway.mqtt import Uplink

    sent: list[bytes] = []
    up = Uplink.__new__(Uplink)  # only what health() uses: no broker, no spool
    up.node, up.park, up.now_ms = "gw-test", "kraakoya", lambda: 1_800_000_000_000
    up.publish_json = lambda topic, payload, retain=False: sent.append(payload)
    up.health({"queued": 1.0} | {f"dev_d{i}_polls": float(i) for i in range(MAX_HEALTH_COUNTERS + 10)})
    counters = decode_health(sent[0]).counters
    assert len(counters) == MAX_HEALTH_COUNTERS and counters["queued"] == 1.0 and counters["counters_omitted"] == 12
