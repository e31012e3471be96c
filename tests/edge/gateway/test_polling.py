"""Polling against real pymodbus servers: TCP on loopback and RTU through a socat pty pair."""

from __future__ import annotations

import asyncio
import time

import pytest

from edge.gateway.config import Device, SerialBus, TcpBus
from edge.gateway.modbus import DevicePoller, Link
from edge.profiles import Profile, Register

from .peers import ModbusPeer, pty_pair
from .test_profiles import CASES, ORDERS, wire_words


def poller(profile: Profile, link: Link, sink, poll_s: float = 0.1, unit: int = 1, dev_id: str = "dev") -> DevicePoller:
    names = [r.name for r in profile.registers]
    tags = {n: f"t.{n}" for n in names}
    dev = Device(id=dev_id, bus="b", profile=profile.id, unit_id=unit, poll_s=poll_s, max_backoff_s=0.4, tags=tags)
    return DevicePoller(dev, profile, link, dict.fromkeys(names, 1.0), {n: profile.register(n).unit for n in names}, sink)


def type_matrix() -> tuple[Profile, dict[str, float], list[tuple[int, int, list[int]]]]:
    """A profile with every type in every order on fc 3 and fc 4, plus coils and discrete inputs."""
    regs, expect, writes = [], {}, []
    addr = {3: 0, 4: 0}
    for i, (dtype, code, values) in enumerate(CASES):
        for j, (bo, wo) in enumerate(ORDERS):
            fc = 3 if (i + j) % 2 else 4
            v = values[(i + j) % len(values)]
            name = f"{dtype}_{bo[0]}{wo[0]}"
            r = Register(name=name, fc=fc, address=addr[fc], type=dtype, byte_order=bo, word_order=wo, scale=0.5, offset=1.0)
            regs.append(r)
            words = wire_words(v, code, bo, wo)
            writes.append((fc, addr[fc], words))
            raw = __import__("struct").unpack(">" + code, __import__("struct").pack(">" + code, v))[0]
            expect[name] = raw * 0.5 + 1.0
            addr[fc] += len(words)
    for fc in (1, 2):
        regs.append(Register(name=f"bit{fc}", fc=fc, address=7, type="bit"))
        writes.append((fc, 7, [True]))
        expect[f"bit{fc}"] = 1.0
    return Profile(id="matrix", manufacturer="test", model="matrix", registers=regs), expect, writes


def test_every_type_and_order_over_tcp_in_merged_reads():
    profile, expect, writes = type_matrix()
    with ModbusPeer([1]) as peer:
        for fc, address, words in writes:
            peer.set(1, fc, address, words)
        got: list = []
        link = Link(TcpBus(type="tcp", host="127.0.0.1", port=peer.port, timeout_s=1))
        p = poller(profile, link, got.extend)
        before = peer.requests

        async def once():
            try:
                return await p.poll_once()
            finally:
                link.close()

        readings = asyncio.run(once())
        assert peer.requests - before == len(p.blocks)  # one request per merged block
    assert len(p.blocks) <= 6 and all(b.count <= 125 for b in p.blocks)
    by_tag = {t: (v, q) for t, v, u, ts, q in readings}
    for name, value in expect.items():
        v, q = by_tag[f"t.{name}"]
        assert q == "good" and v == pytest.approx(value, rel=1e-12), name


async def _run_for(pollers: list[DevicePoller], seconds: float) -> None:
    tasks = [asyncio.create_task(p.run()) for p in pollers]
    await asyncio.sleep(seconds)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def test_unplugged_exception_and_silent_devices_do_not_stall_the_others():
    temp = Register(name="temp", fc=3, address=0, type="int16", scale=0.1, unit="degC")
    profile = Profile(id="p", manufacturer="t", model="t", registers=[temp])
    out: dict[str, list] = {"good": [], "bad": [], "silent": []}
    with ModbusPeer([1]) as healthy, ModbusPeer([1]) as refusing, ModbusPeer([1]) as silent:
        healthy.set(1, 3, 0, [215])
        refusing.mode[1] = "exception"
        silent.mode[1] = "silent"

        def tcp(peer: ModbusPeer) -> Link:
            return Link(TcpBus(type="tcp", host="127.0.0.1", port=peer.port, timeout_s=0.3))

        links = [tcp(healthy), tcp(refusing), tcp(silent)]
        pollers = [poller(profile, link, out[k].extend, dev_id=k) for link, k in zip(links, out, strict=True)]

        async def scenario() -> float:
            runner = asyncio.create_task(_run_for(pollers, 3.0))
            await asyncio.sleep(1.0)
            unplugged = time.time() * 1000
            await asyncio.to_thread(healthy.stop)  # the cable is pulled mid-run
            await asyncio.sleep(1.0)
            await asyncio.to_thread(healthy.start)  # ... and plugged back (values reset to 0)
            await runner
            for link in links:
                link.close()
            return unplugged

        unplugged = asyncio.run(scenario())

    good = out["good"]
    first_second = [r for r in good if r[3] < unplugged]
    # 10 polls a second expected; a stalled poller (waiting on the silent device) would get ~3
    assert len(first_second) >= 7, len(first_second)
    assert all(q == "good" and v == pytest.approx(21.5) for _, v, _, _, q in first_second)
    outage = [r for r in good if unplugged + 300 < r[3] < unplugged + 900]
    assert outage and all(q == "comm_error" and v is None for _, v, _, _, q in outage)  # never an old value as fresh
    assert any(q == "good" and v == 0.0 for _, v, _, ts, q in good if ts > unplugged + 1000)  # reconnected by itself
    assert out["bad"] and all(q == "comm_error" and v is None for _, v, _, _, q in out["bad"])
    assert "exception code 4" in pollers[1].stats.last_error
    assert out["silent"] and all(q == "comm_error" for *_, q in out["silent"])
    assert pollers[2].stats.failures_in_row >= 2  # backing off, not hammering
    assert len(out["bad"]) < 15  # backoff: far fewer than the 30 polls of a healthy device


def test_rtu_over_a_socat_pty_pair_with_two_devices_on_one_line(tmp_path):
    profile = Profile(
        id="p",
        manufacturer="t",
        model="t",
        registers=[
            Register(name="flow", fc=3, address=0, type="float32", word_order="little", unit="m3/h"),
            Register(name="total", fc=4, address=10, type="uint32", unit="m3"),
        ],
    )
    with pty_pair(tmp_path) as (server_tty, client_tty), ModbusPeer([3, 4], serial=server_tty, baudrate=19200) as peer:
        peer.set(3, 3, 0, wire_words(42.5, "f", "big", "little"))
        peer.set(4, 3, 0, wire_words(-7.25, "f", "big", "little"))
        peer.set(3, 4, 10, wire_words(123456, "I", "big", "big"))
        link = Link(SerialBus(type="serial", port=client_tty, baudrate=19200, timeout_s=1))
        got: list = []
        p3 = poller(profile, link, got.extend, unit=3, dev_id="a")
        p4 = poller(profile, link, got.extend, unit=4, dev_id="b")

        async def both():
            try:
                return await asyncio.gather(p3.poll_once(), p4.poll_once())
            finally:
                link.close()

        r3, r4 = asyncio.run(both())  # concurrent polls share the line under its lock
    assert [(t, v, q) for t, v, _, _, q in r3] == [("t.flow", 42.5, "good"), ("t.total", 123456.0, "good")]
    assert [(t, v, q) for t, v, _, _, q in r4] == [("t.flow", -7.25, "good"), ("t.total", 0.0, "good")]


def test_a_refused_block_is_comm_error_while_the_device_stays_online():
    """Finding 9: one block answering a Modbus exception (a firmware without that register) took
    the whole device into exponential backoff and showed it offline."""
    profile = Profile(
        id="p",
        manufacturer="t",
        model="t",
        registers=[
            Register(name="temp", fc=3, address=0, type="int16", scale=0.1, unit="degC"),
            Register(name="flow", fc=3, address=1, type="float32", unit="m3/h"),
            Register(name="counter", fc=4, address=20, type="uint32", unit="1"),  # this firmware lacks it
        ],
    )
    got: list = []
    with ModbusPeer([1]) as peer:
        peer.set(1, 3, 0, [215, *wire_words(3.5, "f", "big", "big")])
        peer.refuse.add((1, 4, 21))
        link = Link(TcpBus(type="tcp", host="127.0.0.1", port=peer.port, timeout_s=0.5))
        p = poller(profile, link, got.extend, poll_s=0.05)
        assert len(p.blocks) == 2

        async def scenario() -> None:
            await _run_for([p], 2.0)
            link.close()

        asyncio.run(scenario())
    temps = [(v, q) for t, v, _, _, q in got if t == "t.temp"]
    counters = [(v, q) for t, v, _, _, q in got if t == "t.counter"]
    # 20 polls/s for 2 s; a device in backoff (0.05, 0.1, 0.2, 0.4 s...) would get about 8
    assert len(temps) >= 25 and all(q == "good" and v == pytest.approx(21.5) for v, q in temps), len(temps)
    assert all(q == "good" for t, _, _, _, q in got if t == "t.flow")
    assert counters and all(q == "comm_error" and v is None for v, q in counters)
    assert len(counters) < len(temps) / 3  # the refused block backs off on its own
    assert p.stats.state == "online" and p.stats.failures_in_row == 0 and p.stats.blocks_down == 1
    assert "exception code 2" in p.block_states[1].last_error and p.block_states[0].failures_in_row == 0


def test_bit_fields_out_of_range_and_stale_over_rtu(tmp_path):
    """Findings 12 and 13 over a real RTU line: a status word's bits as separate tags, a reading
    outside its tag's range flagged (value kept), and a frozen heartbeat reported stale."""
    bit = {"fc": 3, "address": 0, "type": "uint16"}
    profile = Profile(
        id="p",
        manufacturer="t",
        model="t",
        registers=[
            Register(name="running", bits=0, **bit),
            Register(name="fault", bits=1, **bit),
            Register(name="manual", bits=2, **bit),
            Register(name="mode", bits="4-6", **bit),
            Register(name="heartbeat", fc=3, address=1, type="uint16", stale_after_s=0.6),
            Register(name="temp", fc=4, address=0, type="int16", scale=0.1, unit="degC"),
        ],
    )
    with pty_pair(tmp_path) as (server_tty, client_tty), ModbusPeer([5], serial=server_tty, baudrate=19200) as peer:
        peer.set(5, 3, 0, [0b101_0101, 7])  # running, manual, mode 5; heartbeat 7
        peer.set(5, 4, 0, [302])  # 30.2 degC: the tag's range is 0-25
        link = Link(SerialBus(type="serial", port=client_tty, baudrate=19200, timeout_s=1))
        p = poller(profile, link, lambda r: None, unit=5)
        p = DevicePoller(p.device, profile, link, p.factors, p.units, p.sink, bounds={"temp": (0.0, 25.0)})
        assert [b.count for b in p.blocks] == [2, 1]  # the four fields cost no extra request

        async def polls() -> list[dict]:
            out = []
            try:
                for step in range(3):
                    out.append({t: (v, q) for t, v, _, _, q in await p.poll_once()})
                    await asyncio.sleep(0.8 if step == 0 else 0.0)
                    if step == 1:
                        await asyncio.to_thread(peer.set, 5, 3, 1, [8])  # the heartbeat moves again
                        await asyncio.to_thread(peer.set, 5, 4, 0, [215])
            finally:
                link.close()
            return out

        first, frozen, moved = asyncio.run(polls())
    assert {t: v for t, (v, _) in first.items() if t != "t.temp"} == {
        "t.running": 1.0,
        "t.fault": 0.0,
        "t.manual": 1.0,
        "t.mode": 5.0,
        "t.heartbeat": 7.0,
    }
    assert first["t.temp"] == (pytest.approx(30.2), "out_of_range")  # never published as good
    assert first["t.heartbeat"][1] == "good" and frozen["t.heartbeat"] == (7.0, "stale")
    assert moved["t.heartbeat"] == (8.0, "good") and moved["t.temp"] == (pytest.approx(21.5), "good")
