"""The sensor-node firmware on the real MicroPython unix port: drivers, buffer, config, clock,
syntax gate (mpy-cross), heap soak, and the node against the real Mosquitto (outage, power cut, TLS)."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from aisym.contract import check_against_park, decode_ack, decode_health, decode_status, decode_telemetry
from aisym.park import load_view

from tests.conftest import USERS
from tests.support import MqttProbe

from .harness import FAKES, FIRMWARE, MICROPYTHON, MP_TESTS, SntpServer, compile_all, mp_path, run_mp

FW_FILES = sorted(FIRMWARE.glob("*.py"))


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_drivers_on_micropython():
    _ok(run_mp(MP_TESTS / "mp_drivers.py"))


def test_watchdog_fed_through_outage_starved_by_a_hung_task(tmp_path):
    out = _ok(run_mp(MP_TESTS / "mp_watchdog.py", env={"BUF": str(tmp_path / "buf")}, timeout=60))
    assert "watchdog: task 'sampler' is late; not feeding" in out


def test_ringbuffer_on_littlefs_1mib():
    out = _ok(run_mp(MP_TESTS / "mp_ringbuf.py", "80000", heap="8m", timeout=120))
    cap = next(line for line in out.splitlines() if line.startswith("CAPACITY"))
    assert int(cap.split()[1].split("=")[1]) > 24 * 360 * 8


def test_config_supervisor_wifi_clock(tmp_path):
    with SntpServer() as ntp, SntpServer(kiss_of_death=True) as kod:
        env = {
            "NTP_PORT": str(ntp.port),
            "KOD_PORT": str(kod.port),
            "NTP_NOW_MS": str(int(time.time() * 1000)),
            "CFG_PATH": str(tmp_path / "config.json"),
        }
        _ok(run_mp(MP_TESTS / "mp_misc.py", env=env))
        assert ntp.answered >= 1 and kod.answered == 2


def test_mpy_cross_compiles_every_firmware_file(tmp_path):
    assert len(FW_FILES) >= 16
    made = compile_all(tmp_path, FW_FILES)
    assert all(p.stat().st_size > 0 for p in made)


def test_mpy_cross_rejects_what_micropython_lacks(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("match x:\n    case 1:\n        pass\n")
    proc = subprocess.run([str(Path(MICROPYTHON).with_name("mpy-cross")), str(bad)], capture_output=True, text=True)
    assert proc.returncode != 0


def test_heap_soak_24h_and_payloads_follow_the_contract(tmp_path):
    mpy = tmp_path / "mpy"
    compile_all(mpy, [f for f in FW_FILES if f.stem != "main"] + [MP_TESTS / "check.py", MP_TESTS / "mp_soak.py"])
    env = {"SOAK_DIR": str(tmp_path / "buf")}  # default batch (10), 2 KiB telemetry buffer as main.py
    # run from the .mpy folder: module paths (kept as strings) are as short as on a board
    out = _ok(run_mp("-c", "import mp_soak", heap="64k", env=env, path=f".frozen:.:{FAKES}", cwd=mpy, timeout=120))
    lines = {ln.split(" ", 1)[0]: ln.split(" ", 1)[1] for ln in out.splitlines() if " " in ln}
    assert "readings=69120" in lines["SOAK"]
    park = load_view()
    msg = decode_telemetry(lines["PAYLOAD"])
    assert list(check_against_park(msg, park)) == []
    assert [r.quality for r in msg.readings] == ["good", "comm_error"] and msg.readings[1].value is None
    assert decode_status(lines["STATUS"]).role == "sensor_node"
    assert decode_health(lines["HEALTH"]).counters["queued"] == 2


# -- against the real broker -------------------------------------------------------------------------
CHANNELS = [
    {"tag": "heat_store.temp_top", "unit": "degC", "kind": "fake", "value": 60.0, "step": 0.1},
    {"tag": "ras.ph", "unit": "pH", "kind": "fake", "value": 7.0, "step": 0.001},
]


def node_config(path: Path, broker, ntp_port: int, buf: Path, channels: list | None = None, **mqtt) -> Path:
    cfg = {
        "park": "kraakoya",
        "node": "sensor-node",
        "sample_s": 0.05,
        "watchdog_ms": 0,
        "health_s": 1,
        "mqtt": {
            "host": "127.0.0.1",
            "port": broker.port,
            "user": "sensor-node",
            "password": USERS["sensor-node"],
            "keepalive_s": 5,
            "response_ms": 1000,
            "backoff_ms": [100, 500],
            **mqtt,
        },
        "ntp": {"host": "127.0.0.1", "port": ntp_port, "retries": 3, "timeout_ms": 300, "resync_s": 60},
        "buffer": {"dir": str(buf), "segments": 50, "flush_n": 8, "flush_s": 0},
        "channels": CHANNELS if channels is None else channels,
    }
    path.write_text(json.dumps(cfg))
    return path


def start_node(cfg: Path, seconds: float, drain_ms: int = 8000) -> subprocess.Popen:
    import os

    env = {**os.environ, "MICROPYPATH": mp_path()}
    return subprocess.Popen(
        [MICROPYTHON, str(MP_TESTS / "mp_node.py"), str(cfg), str(seconds), str(drain_ms)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def probe_for(broker, client_id: str) -> MqttProbe:
    """An admin v5 probe with a persistent session: Mosquitto (persistence on) keeps queuing for
    it across a broker restart, so nothing the node sends while the probe reconnects is missed."""
    p = MqttProbe("127.0.0.1", broker.port, "admin", USERS["admin"], client_id)
    p.connect(clean_start=False, session_expiry=300)
    p.subscribe("aisym/kraakoya/sensor-node/#")
    return p


def readings_of(probe: MqttProbe) -> list:
    park = load_view()
    out = []
    for m in list(probe.messages):
        if m.topic.endswith("/telemetry"):
            msg = decode_telemetry(m.payload)  # the ingestor's validator
            assert list(check_against_park(msg, park)) == []
            out.extend(msg.readings)
    return out


def assert_complete_in_order(readings: list, next_seq: int) -> None:
    seqs = [r.seq for r in readings]
    first_seen = list(dict.fromkeys(seqs))
    assert first_seen == sorted(first_seen), "readings arrived out of order"
    assert set(seqs) == set(range(next_seq)), f"missing: {sorted(set(range(next_seq)) - set(seqs))[:20]}"
    by_seq = {}
    for r in readings:  # a QoS 1 resend repeats a reading identically, never with other content
        assert by_seq.setdefault(r.seq, r) == r


def test_a_value_outside_its_tags_range_is_sent_out_of_range_never_good(fresh_mosquitto, tmp_path, unique_id):
    """A sensor reading 120 degC on a 0-95 degC tag: before, the node sent it good and the cloud
    refused its whole message (every other reading in it with it); now it is marked out_of_range.
    A broker of its own: the admin probe's persistent session would hand its leftovers to the next test."""
    from aisym.contract import check_ranges

    park = load_view()
    lo, hi = park.tags["heat_store.temp_top"].min, park.tags["heat_store.temp_top"].max
    channels = [{"tag": "heat_store.temp_top", "unit": "degC", "kind": "fake", "value": hi + 25, "step": 0.0,
                 "min": lo, "max": hi},
                {"tag": "ras.ph", "unit": "pH", "kind": "fake", "value": 7.0, "step": 0.0,
                 "min": park.tags["ras.ph"].min, "max": park.tags["ras.ph"].max}]
    probe = probe_for(fresh_mosquitto, unique_id)
    with SntpServer() as ntp:
        cfg = node_config(tmp_path / "config.json", fresh_mosquitto, ntp.port, tmp_path / "buf", channels=channels)
        node = start_node(cfg, seconds=2, drain_ms=3000)
        try:
            probe.wait(lambda: len(readings_of(probe)) >= 10, 15, "readings")
            node.communicate(timeout=20)
        finally:
            node.kill()
            probe.close()
    msgs = [decode_telemetry(m.payload) for m in probe.messages if m.topic.endswith("/telemetry")]
    assert all(list(check_ranges(m, park)) == [] for m in msgs), "the ingestor would refuse a whole message"
    q = {}
    for m in msgs:
        for r in m.readings:
            q.setdefault(r.tag, set()).add(r.quality)
    assert q == {"heat_store.temp_top": {"out_of_range"}, "ras.ph": {"good"}}


@pytest.mark.services
def test_broker_outage_every_reading_arrives_in_order(fresh_mosquitto, tmp_path, unique_id):
    probe1 = probe_for(fresh_mosquitto, unique_id)
    with SntpServer() as ntp:
        cfg = node_config(tmp_path / "config.json", fresh_mosquitto, ntp.port, tmp_path / "buf", backoff_ms=[300, 1000])
        node = start_node(cfg, seconds=8)
        try:
            probe1.wait(lambda: len(readings_of(probe1)) > 20, 15, "first readings")
            fresh_mosquitto.stop()  # outage: the node keeps sampling onto flash
            probe1.client.loop_stop()
            time.sleep(2)
            fresh_mosquitto.start()
            probe2 = probe_for(fresh_mosquitto, unique_id)  # same session: queued messages arrive
            online = lambda: any(m.topic.endswith("/status") and b"online" in m.payload for m in probe2.messages)  # noqa: E731
            probe2.wait(online, 10, "birth message after the reconnect")
            # re-subscribed after the reconnect: a command gets its (rejecting) acknowledgement
            cmd = {
                "v": 1,
                "id": "c1",
                "ts": int(time.time() * 1000),
                "setpoints": [{"tag": "ras.temp_setpoint", "value": 13.0}],
            }
            probe2.publish("aisym/kraakoya/sensor-node/cmd", json.dumps(cmd).encode())
            out, _ = node.communicate(timeout=40)
        finally:
            node.kill()
    assert node.returncode == 0, out
    next_seq = int(out.split("NEXT_SEQ ")[1].split()[0])
    assert next_seq > 60, out
    assert_complete_in_order(readings_of(probe1) + readings_of(probe2), next_seq)
    acks = [decode_ack(m.payload) for m in probe2.messages if m.topic.endswith("/cmd/ack")]
    assert acks and acks[0].id == "c1" and acks[0].results[0].status == "rejected", out
    births = [decode_status(m.payload) for m in probe2.messages if m.topic.endswith("/status")]
    assert births and births[-1].state == "online"
    assert "'outages': 1" in out
    healths = [decode_health(m.payload) for m in probe2.messages if m.topic.endswith("/health")]
    assert healths and healths[-1].counters["outages"] == 1 and healths[-1].counters["discards"] == 0


@pytest.mark.services
def test_power_cut_flash_buffer_resumes(fresh_mosquitto, tmp_path, unique_id):
    with SntpServer() as ntp:
        cfg = node_config(tmp_path / "config.json", fresh_mosquitto, ntp.port, tmp_path / "buf")
        probe = probe_for(fresh_mosquitto, unique_id)
        first = start_node(cfg, seconds=30)
        probe.wait(lambda: len(readings_of(probe)) > 10, 15, "first readings")
        fresh_mosquitto.stop()  # readings pile up on flash...
        probe.client.loop_stop()
        before = readings_of(probe)
        time.sleep(1.5)
        first.send_signal(signal.SIGKILL)  # ...and the power goes
        first.wait(5)
        fresh_mosquitto.start()
        probe = probe_for(fresh_mosquitto, unique_id)
        second = start_node(cfg, seconds=1.5)
        out, _ = second.communicate(timeout=40)
    assert second.returncode == 0, out
    assert "BOOT 2" in out
    next_seq = int(out.split("NEXT_SEQ ")[1].split()[0])
    got = before + readings_of(probe)
    seqs = sorted({r.seq for r in got})
    # the first boot's flushed readings were sent by the second boot, then its own followed on:
    # no gap (the unflushed RAM batch lost in the cut was never published, its seqs are reused)
    assert seqs == list(range(next_seq))
    assert max(r.seq for r in before) < next_seq - 30  # the second boot sent much more after the cut
    assert any(r.value is not None for r in got)
    wills = [m for m in probe.messages if m.topic.endswith("/status")]
    assert wills, "the retained status is kept"


@pytest.mark.services
def test_tls_connection(mosquitto, tmp_path):
    with SntpServer() as ntp:
        cfg = node_config(tmp_path / "config.json", mosquitto, ntp.port, tmp_path / "buf")
        data = json.loads(cfg.read_text())
        # MicroPython's mbedTLS takes the CA as DER (aisym node build converts it)
        der = tmp_path / "ca.der"
        der.write_bytes(ssl.PEM_cert_to_DER_cert(Path(mosquitto.ca_file).read_text()))
        data["mqtt"].update(port=mosquitto.tls_port, tls=True, ca=str(der), server_hostname="localhost")
        cfg.write_text(json.dumps(data))
        out, _ = start_node(cfg, seconds=1.5).communicate(timeout=40)
    assert "mqtt: connected (1)" in out and "ACKED -1" not in out, out


@pytest.mark.services
def test_boot_and_deep_sleep_cycles(mosquitto, tmp_path, unique_id):
    """main.py as on a board: config.json in the working folder, one wake, deep sleep; twice."""
    probe = probe_for(mosquitto, unique_id)
    with SntpServer() as ntp:
        cfg = node_config(tmp_path / "config.json", mosquitto, ntp.port, tmp_path / "buf")
        data = json.loads(cfg.read_text())
        data.update(deep_sleep_s=300, watchdog_ms=8000)
        cfg.write_text(json.dumps(data))
        outs = [_ok(run_mp(FIRMWARE / "main.py", cwd=tmp_path, timeout=60)) for _ in range(2)]
    assert all("DEEPSLEEP 300000 ms" in o for o in outs), outs
    probe.wait(lambda: len(readings_of(probe)) >= 4, 10, "readings of two wakes")
    got = readings_of(probe)
    assert sorted({r.seq for r in got}) == [0, 1, 2, 3]  # one scan of 2 channels per wake, seq continues
    states = [decode_status(m.payload).state for m in probe.messages if m.topic.endswith("/status")]
    assert "offline" not in states  # a clean DISCONNECT before sleeping: no last will


def test_modbus_rtu_master_against_pymodbus_over_a_pty(tmp_path):
    """The firmware's RTU master on a socat pty pair, a real pymodbus RTU server at the other end."""
    import struct

    from tests.edge.gateway.peers import ModbusPeer, pty_pair

    f = struct.unpack(">2H", struct.pack(">f", 42.5))
    with pty_pair(tmp_path) as (server_tty, node_tty), ModbusPeer([3], serial=server_tty, baudrate=19200) as peer:
        peer.set(3, 3, 0, [f[1], f[0], (-350) & 0xFFFF])  # float32 word-swapped (CDAB), int16 x 0.01
        peer.set(3, 4, 10, [123456 >> 16, 123456 & 0xFFFF])
        proc = run_mp(MP_TESTS / "mp_rtu.py", node_tty, timeout=60)
    _ok(proc)
