"""Issue 18, finding 8: no fault stops polling for good.

A full spool disk is made for real: a 16 MB tmpfs mounted for the test (root is needed to mount it;
the project's test machines run as root), filled by another file until ENOSPC, then freed.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import subprocess
import time
from pathlib import Path

import pytest

from .harness import GatewayThread, payloads, readings_of, resolved, subscriber, wait_for, write_config
from .peers import ModbusPeer
from .test_store_forward import TELEMETRY, check_complete, set_feedback


@pytest.fixture
def small_disk(tmp_path):
    where = tmp_path / "disk"
    where.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(where)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"a real full disk needs a small tmpfs, and mount was refused: {res.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(path: Path) -> int:
    """Write ``path`` until the file system has no byte left; returns the bytes written."""
    n = 0
    with open(path, "wb", buffering=0) as f:
        chunk = b"\0" * 4096
        while True:
            try:
                n += f.write(chunk)
            except OSError as e:
                assert e.errno == errno.ENOSPC
                break
        with contextlib.suppress(OSError):
            f.flush()
    return n


def test_a_full_disk_pauses_the_spool_and_polling_resumes_by_itself(fresh_mosquitto, small_disk, tmp_path):
    """Before: the poller died on ``cannot rollback``, health still said online, 0 readings after space returned."""
    broker = fresh_mosquitto
    with ModbusPeer([1]) as peer:
        set_feedback(peer, 42.0)
        cfg = write_config(tmp_path, broker, peer.port, spool={"path": str(small_disk / "spool.db"), "fsync": "normal"})
        probe = subscriber(broker, "ingest-full", [TELEMETRY, "aisym/kraakoya/gw-test/health"])
        gw = GatewayThread(resolved(cfg)).start()
        try:
            wait_for(lambda: len(readings_of(probe)) > 40, 15, "telemetry before the disk fills")
            assert fill(small_disk / "filler") > 0
            time.sleep(4.0)  # 20 polls/s against a full disk
            during = gw.call(gw.gw.counters)
            (small_disk / "filler").unlink()
            freed_at = time.time() * 1000
            time.sleep(5.0)
            after_free = [r for r, _ in readings_of(probe) if r.ts > freed_at + 500]
            assert len(after_free) > 50, f"{len(after_free)} readings in the 4.5 s after space came back"
            gw.call(gw.gw.stop_inputs)
            wait_for(lambda: gw.call(lambda: len(gw.gw.spool)) == 0, 30, "the spool to drain")
            counters = gw.call(gw.gw.counters)
            last_seq = int(counters["seq_last"])
            wait_for(lambda: {r.seq for r, _ in readings_of(probe)} >= set(range(1, last_seq + 1)), 30, "every seq")
        finally:
            gw.stop()
        received = readings_of(probe)
        health = payloads(probe, "/health")
        probe.client.loop_stop()
        probe.client.disconnect()
    assert during["spool_paused"] == 1 and during["spool_full_errors"] > 0 and during["dev_chp_online"] == 1
    assert any(h["counters"].get("spool_paused") == 1 for h in health)  # the cloud was told
    assert counters["spool_paused"] == 0 and counters["task_restarts"] == 0
    # what the device answered during the 4 s was held in memory and stored once space returned
    assert counters["spool_lost"] == 0 and counters["dropped"] == 0
    by_seq = check_complete(received, last_seq)
    held = [r for r in by_seq.values() if freed_at - 3500 < r.ts < freed_at - 500]
    assert len(held) > 50, f"only {len(held)} readings from the full-disk seconds"


def test_a_crashed_poller_is_restarted_and_counted_and_a_crash_loop_stops_the_gateway(mosquitto, tmp_path, unique_id):
    """A poller that dies is restarted (health: task_restarts); one that keeps dying ends the run with
    an error, so that ``aisym gateway run`` exits non-zero and systemd sees a failed unit."""
    with ModbusPeer([1]) as peer:
        cfg = write_config(tmp_path, mosquitto, peer.port, broker={"client_id": unique_id})
        r = resolved(cfg)
        gw = GatewayThread(r).start()
        try:
            wait_for(lambda: gw.call(lambda: gw.gw.pollers["chp"].stats.polls) > 5, 10, "polling")
            poller = gw.gw.pollers["chp"]
            real = poller.poll_once
            crashes = {"n": 0}

            async def crash_once():
                if crashes["n"] < 1:
                    crashes["n"] += 1
                    raise RuntimeError("a bug in a poll")
                return await real()

            gw.call(lambda: setattr(poller, "poll_once", crash_once))
            polls = gw.call(lambda: poller.stats.polls)
            wait_for(lambda: gw.call(lambda: poller.stats.polls) > polls + 5, 10, "polling after the restart")
            counters = gw.call(gw.gw.counters)
            assert counters["task_restarts"] == 1 and counters["dev_chp_online"] == 1

            async def always_crash():
                raise RuntimeError("a bug in every poll")

            gw.call(lambda: setattr(gw.gw, "restart_limit", (3, 60.0)))
            gw.call(lambda: setattr(poller, "poll_once", always_crash))
            wait_for(lambda: not gw._thread.is_alive(), 30, "the gateway to give up")
        finally:
            gw.stop()
    assert isinstance(gw.error, RuntimeError) and "a bug in every poll" in str(gw.error.__cause__ or gw.error)


def test_serve_returns_non_zero_when_the_gateway_gives_up(tmp_path, mosquitto, unique_id):
    from edge.gateway import gateway as gateway_module

    cfg = write_config(tmp_path, mosquitto, None, broker={"client_id": unique_id})

    async def broken_run(self):
        raise gateway_module.TaskFailed("poller chp crashed 5 times in 600 s: RuntimeError('x')")

    original = gateway_module.Gateway.run
    gateway_module.Gateway.run = broken_run
    try:
        assert asyncio.run(gateway_module.serve(resolved(cfg))) == 1
    finally:
        gateway_module.Gateway.run = original


def test_the_gateway_process_tells_systemd_it_is_ready_and_alive(tmp_path, mosquitto):
    """``aisym gateway run`` under ``Type=notify`` + ``WatchdogSec``: READY=1, WATCHDOG=1 pings while the
    loop runs (a hung loop stops them and systemd restarts it), STOPPING=1 and exit 0 on SIGTERM."""
    import os
    import signal
    import socket

    from .harness import gateway_process

    sock_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(sock_path))
    listener.settimeout(20)
    cfg = write_config(tmp_path, mosquitto, None, broker={"client_id": "gw-notify"})
    os.environ.update(NOTIFY_SOCKET=str(sock_path), WATCHDOG_USEC="400000")
    try:
        proc = gateway_process(cfg, tmp_path / "gateway.log")
    finally:
        del os.environ["NOTIFY_SOCKET"], os.environ["WATCHDOG_USEC"]
    got: list[str] = []
    try:
        while got.count("WATCHDOG=1") < 4:
            got.append(listener.recv(256).decode())
        proc.send_signal(signal.SIGTERM)
        while "STOPPING=1" not in got:
            got.append(listener.recv(256).decode())
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        listener.close()
    assert got[0] == "READY=1" and got[-1] == "STOPPING=1"
