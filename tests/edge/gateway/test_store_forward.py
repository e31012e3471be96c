"""Store-and-forward end to end: real Mosquitto (TLS), real pymodbus device, the spool on disk.

Zero loss is counted end to end: every seq the spool ever gave out (1..last) must reach the
subscriber, with its original timestamp; duplicates (at-least-once) must be identical.
"""

from __future__ import annotations

import os
import signal
import struct
import time

import pytest

from aisym.contract import decode_health, decode_status
from edge.gateway.clock import clock_synced
from edge.gateway.spool import Spool

from .harness import (
    GatewayThread,
    gateway_process,
    kill9,
    payloads,
    readings_of,
    resolved,
    spool_state,
    subscriber,
    wait_for,
    write_config,
)
from .peers import ModbusPeer

TELEMETRY = "aisym/kraakoya/gw-test/telemetry"


def set_feedback(peer: ModbusPeer, value: float) -> None:
    peer.set(1, 3, 2, list(struct.unpack(">HH", struct.pack(">f", value))))


def restart(broker) -> None:
    """Start the stopped broker again on its ports; a reconnecting client's ephemeral port can hold
    one of them for a moment (TCP self-connect on loopback), so try a few times."""
    for attempt in range(5):
        try:
            broker.start()
            return
        except RuntimeError:
            if attempt == 4:
                raise
            time.sleep(1.0)


def check_complete(received: list, last_seq: int) -> dict[int, object]:
    by_seq: dict[int, object] = {}
    for r, _sent in received:
        if r.seq in by_seq:
            assert by_seq[r.seq] == r, f"seq {r.seq} was reused for a different reading"
        by_seq[r.seq] = r
    missing = set(range(1, last_seq + 1)) - set(by_seq)
    assert not missing, f"{len(missing)} readings lost, e.g. seq {sorted(missing)[:5]}"
    return by_seq


def test_spool_bounds_counts_and_keeps_seq_across_reopen(tmp_path):
    sp = Spool(tmp_path / "s.db", max_readings=100, fsync="full")
    seqs = sp.add([("chp.power_el", float(i), "kW", 1_700_000_000_000 + i, "good") for i in range(150)])
    assert seqs == list(range(1, 151)) and len(sp) == 100 and sp.counters["dropped"] == 50
    rows = sp.pending(0, 10)
    assert rows[0].seq == 51 and rows[0].value == 50.0 and rows[0].ts == 1_700_000_000_050  # the oldest were dropped
    assert sp.ack([r.seq for r in rows]) == 10 and sp.ack([51]) == 0  # a duplicate PUBACK deletes nothing
    sp.close()
    sp = Spool(tmp_path / "s.db", max_readings=100)
    assert len(sp) == 90 and sp.counters == {"queued_total": 150, "sent": 10, "dropped": 50}
    sp.ack([r.seq for r in sp.pending(0, 1000)])
    assert len(sp) == 0 and sp.last_seq() == 150
    assert sp.add([("chp.power_el", None, "kW", 1_700_000_000_000, "comm_error")]) == [151]  # seq never reused
    sp.close()


def test_broker_down_60s_and_back_loses_nothing(fresh_mosquitto, tmp_path):
    broker = fresh_mosquitto
    with ModbusPeer([1]) as peer:
        set_feedback(peer, 42.0)
        cfg = write_config(tmp_path, broker, peer.port)
        probe = subscriber(broker, "ingest-bd", [TELEMETRY, "aisym/kraakoya/gw-test/health", "aisym/kraakoya/gw-test/status"])
        gw = GatewayThread(resolved(cfg)).start()
        try:
            wait_for(lambda: len(readings_of(probe)) > 40, 15, "telemetry before the outage")
            broker.stop()
            down_at = time.time() * 1000
            time.sleep(60)
            queued_in_outage = gw.call(lambda: len(gw.gw.spool))
            assert queued_in_outage > 500  # 20 polls/s x 2 tags x 60 s went to the spool
            set_feedback(peer, 43.0)
            restart(broker)
            up_at = time.time() * 1000
            time.sleep(1.0)
            gw.call(gw.gw.stop_inputs)
            wait_for(lambda: gw.call(lambda: len(gw.gw.spool)) == 0, 60, "the spool to drain")
            counters = gw.call(gw.gw.counters)
            last_seq = int(counters["last_seq"])
            wait_for(lambda: {r.seq for r, _ in readings_of(probe)} >= set(range(1, last_seq + 1)), 30, "every seq")
        finally:
            gw.stop()
        received = readings_of(probe)
        probe.client.loop_stop()
        probe.client.disconnect()
    by_seq = check_complete(received, last_seq)
    assert counters["dropped"] == 0 and counters["queued_total"] == last_seq == counters["sent"]
    # replays keep their original timestamps: readings taken during the outage, sent after it
    replayed = [(r, sent) for r, sent in received if down_at + 1000 < r.ts < up_at - 1000]
    assert len(replayed) > 500 and all(sent >= up_at - 1000 for _, sent in replayed)
    assert all(r.quality == "good" and r.value in (42.0, 0.0) for r, _ in replayed)
    seqs_in_ts_order = [r.seq for r in sorted(by_seq.values(), key=lambda r: (r.ts, r.seq))]
    assert seqs_in_ts_order == sorted(seqs_in_ts_order)
    health = [decode_health(__import__("json").dumps(h)) for h in payloads(probe, "/health")]
    assert health and {"queued", "sent", "dropped", "queued_total"} <= set(health[-1].counters)
    assert max(h.counters["queued"] for h in health) > 500  # the backlog is reported on reconnecting
    assert health[-1].counters["dropped"] == 0 and health[-1].counters["connects"] >= 2
    status = [decode_status(__import__("json").dumps(s)) for s in payloads(probe, "/status")]
    assert [s.state for s in status][:1] == ["online"] and status[-1].state == "offline"  # birth, then clean offline


def test_sigkill_mid_publish_loses_nothing_and_seq_continues(fresh_mosquitto, tmp_path):
    broker = fresh_mosquitto
    log = tmp_path / "gateway.log"
    with ModbusPeer([1]) as peer:
        set_feedback(peer, 7.0)
        cfg = write_config(tmp_path, broker, peer.port)
        probe = subscriber(broker, "ingest-k9", [TELEMETRY, "aisym/kraakoya/gw-test/status"])
        proc = gateway_process(cfg, log)
        try:
            wait_for(lambda: len(readings_of(probe)) > 100, 20, "telemetry from the first run")
            # kill while readings are published but not yet acknowledged: mid-publish. The broker is
            # paused (SIGSTOP) so that no PUBACK can come back in between, whatever the machine's load.
            os.kill(broker.pid, signal.SIGSTOP)
            try:
                deadline = time.monotonic() + 10
                while not spool_state(tmp_path / "spool.db")[1] and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(0.3)  # let the gateway send what it has spooled
                pending_just_before = spool_state(tmp_path / "spool.db")[1]
                kill9(proc)
            finally:
                os.kill(broker.pid, signal.SIGCONT)
            killed_at = time.time() * 1000
            last_before, _left = spool_state(tmp_path / "spool.db")
            assert last_before > 100
            # the broker publishes the last will for the vanished gateway
            wait_for(lambda: any(s["state"] == "offline" for s in payloads(probe, "/status")), 20, "the last will")
            proc = gateway_process(cfg, log)
            wait_for(lambda: spool_state(tmp_path / "spool.db")[0] > last_before + 100, 20, "the second run to poll")
            kill9(proc)
            # third run without the device: only drains what the spool still holds
            cfg = write_config(tmp_path, broker, None)
            proc = gateway_process(cfg, log)
            online = lambda: sum(s["state"] == "online" for s in payloads(probe, "/status"))  # noqa: E731
            wait_for(lambda: online() >= 3, 20, "the third run's birth message")
            wait_for(lambda: not spool_state(tmp_path / "spool.db")[1], 30, "the spool to drain")
            last_seq, _ = spool_state(tmp_path / "spool.db")
            wait_for(lambda: {r.seq for r, _ in readings_of(probe)} >= set(range(1, last_seq + 1)), 30, "every seq")
        finally:
            proc.terminate()
            proc.wait(15)
        received = readings_of(probe)
        probe.client.loop_stop()
        probe.client.disconnect()
    assert proc.returncode == 0, log.read_text()[-3000:]
    by_seq = check_complete(received, last_seq)
    before = [r for r in by_seq.values() if r.ts < killed_at]
    after = [r for r in by_seq.values() if r.ts > killed_at]
    assert before and after
    assert min(r.seq for r in after) > max(r.seq for r in before) == last_before  # seq continues after the restart
    assert pending_just_before, "nothing was pending at the kill: the test did not hit a publish"
    # the kernel's view of the clock travels with each reading (false on a Pi before NTP)
    assert {r.ts_synced for r in by_seq.values()} == {clock_synced()}


@pytest.mark.parametrize("secret", ["password: hunter2", "password_file: /nonexistent/pw"])
def test_credentials_never_inline_and_missing_secret_is_clear(tmp_path, mosquitto, secret):
    from edge.gateway.config import parse_config
    from edge.profiles import ConfigError

    text = f"node: gw-test\npark: kraakoya\nbroker:\n  username: gw-test\n  {secret}\n"
    if secret.startswith("password:"):
        with pytest.raises(ConfigError, match=r"<string>:4:3: broker: 'password' must not be written in the config"):
            parse_config(text)
    else:
        r = parse_config(text)
        with pytest.raises(ValueError, match="nonexistent/pw"):
            r.config.broker.password()


def _drain(broker, tmp_path, park: str, window: int, n: int):
    import asyncio
    import os

    from edge.gateway.config import Broker, Tls
    from edge.gateway.mqtt import Uplink
    from tests.conftest import USERS

    os.environ["AISYM_TEST_GATEWAY_PW"] = USERS["gw-test"]
    sp = Spool(tmp_path / f"{park}.db")
    sp.add([("chp.power_el", float(i), "kW", 1_763_900_000_000 + i, "good") for i in range(n)])
    cfg = Broker(
        host="127.0.0.1",
        port=broker.tls_port,
        tls=Tls(ca_file=broker.ca_file),
        username="gw-test",
        password_env="AISYM_TEST_GATEWAY_PW",
        window=window,
        batch=10,
        client_id=f"gw-test-{park}-{tmp_path.name}"[:40],
    )

    async def go() -> int:
        up = Uplink(cfg, park, "gw-test", sp)
        await up.start()
        await asyncio.wait_for(up.connected.wait(), 10)
        task = asyncio.create_task(up.drain())
        most = 0
        deadline = time.monotonic() + 30
        while len(sp) and time.monotonic() < deadline:
            most = max(most, len(up.inflight))
            await asyncio.sleep(0.0005)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await up.stop()
        return most

    most = asyncio.run(go())
    counters = dict(sp.counters)
    sp.close()
    return most, counters


def test_window_bounds_messages_in_flight_and_drains_a_backlog(mosquitto, tmp_path):
    probe = subscriber(mosquitto, f"ingest-w-{tmp_path.name}"[:40], [TELEMETRY])
    most, counters = _drain(mosquitto, tmp_path, "kraakoya", window=5, n=3000)
    wait_for(lambda: len({r.seq for r, _ in readings_of(probe)}) >= 3000, 20, "3000 readings at the subscriber")
    probe.client.loop_stop()
    probe.client.disconnect()
    assert 1 <= most <= 5
    assert counters["sent"] == 3000 and counters["dropped"] == 0


def test_broker_refusal_drops_and_counts_instead_of_looping(mosquitto, tmp_path):
    # gw-test may not publish under another park: Mosquitto answers PUBACK 135 (not authorised)
    _, counters = _drain(mosquitto, tmp_path, "otherpark", window=10, n=200)
    assert counters["dropped"] == 200 and counters["sent"] == 0


def test_readings_the_contract_refuses_are_dropped_not_crash_looped(mosquitto, tmp_path):
    """A Pi without RTC polls before NTP: ts in 1970. Such rows must not stop the drain forever."""
    import asyncio
    import os

    from edge.gateway.config import Broker, Tls
    from edge.gateway.mqtt import Uplink
    from tests.conftest import USERS

    os.environ["AISYM_TEST_GATEWAY_PW"] = USERS["gw-test"]
    sp = Spool(tmp_path / "s.db")
    sp.add([("chp.power_el", 1.0, "kW", 1_000, "good"), ("chp.power_el", 2.0, "kW", 1_763_900_000_000, "good")])
    sp.add([("chp.power_el", 3.0, "kW", 1_763_900_000_001, "good")])
    cfg = Broker(
        host="127.0.0.1",
        port=mosquitto.tls_port,
        tls=Tls(ca_file=mosquitto.ca_file),
        username="gw-test",
        password_env="AISYM_TEST_GATEWAY_PW",
        client_id=f"gw-test-bad-{tmp_path.name}"[:40],
    )

    async def go() -> dict:
        up = Uplink(cfg, "kraakoya", "gw-test", sp)
        await up.start()
        await asyncio.wait_for(up.connected.wait(), 10)
        task = asyncio.create_task(up.drain())
        deadline = time.monotonic() + 10
        while len(sp) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await up.stop()
        return dict(up.counters)

    counters = asyncio.run(go())
    assert len(sp) == 0 and counters["invalid"] == 1
    assert sp.counters["dropped"] == 1 and sp.counters["sent"] == 2
    sp.close()
