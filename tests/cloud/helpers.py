"""Helpers for the cloud tests: telemetry from the park's own tags, a QoS 1 publisher, point counts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from aisym.contract import topics
from aisym.influx import InfluxV1
from aisym.park import ParkView, load_view
from tests.conftest import PARK_ID, USERS
from tests.support import MqttProbe

PARK: ParkView = load_view()
TAGS = sorted(PARK.tags)
TS0 = 1_790_000_000_000  # a fixed instant (2026-09), so that every test's points are distinct series times


def reading(seq: int, ts0: int = TS0, quality: str = "good") -> dict:
    """Reading number ``seq``: tags cycle through the park, ``ts = ts0 + seq`` ms, so each (tag, ts) is unique."""
    tag = TAGS[seq % len(TAGS)]
    t = PARK.tags[tag]
    value = None if quality == "comm_error" else round(t.min + (t.max - t.min) * ((seq * 37) % 100) / 100, 3)
    return {"tag": tag, "value": value, "unit": t.unit, "ts": ts0 + seq, "quality": quality, "seq": seq}


def telemetry(node: str, seqs: range | list[int], ts0: int = TS0, **extra) -> bytes:
    msg = {"v": 1, "park": PARK_ID, "node": node, "readings": [reading(s, ts0) for s in seqs], **extra}
    return json.dumps(msg).encode()


def messages(node: str, n_msgs: int, per_msg: int, first_seq: int = 0, ts0: int = TS0) -> list[bytes]:
    return [telemetry(node, range(first_seq + i * per_msg, first_seq + (i + 1) * per_msg), ts0) for i in range(n_msgs)]


def publisher(broker, node: str, client_id: str) -> MqttProbe:
    p = MqttProbe("127.0.0.1", broker.port, node, USERS[node], client_id)
    rc = p.connect()
    assert not rc.is_failure, rc
    return p


def publish_all(pub: MqttProbe, node: str, payloads: list[bytes], window: int = 100, timeout: float = 30.0) -> None:
    """QoS 1, at most ``window`` unacknowledged (paho breaks with 100k queued, see field notes)."""
    topic = topics.telemetry(PARK_ID, node)
    mids: list[int] = []
    for p in payloads:
        pub.wait(lambda: sum(1 for m in mids if m not in pub.pubacks) < window, timeout, "PUBACK window")
        mids.append(pub.publish(topic, p))
    pub.wait(lambda: all(m in pub.pubacks for m in mids), timeout, "all PUBACKs")
    bad = {m: pub.pubacks[m] for m in mids if pub.pubacks[m] >= 128}
    assert not bad, f"broker refused publishes: {bad}"


def seqs_in_influx(influx: InfluxV1, node: str) -> list[int]:
    rows = influx.rows(f"SELECT seq FROM /.*/ WHERE node = '{node}' AND time > 0")
    return sorted(int(r["seq"]) for r in rows if r.get("seq") is not None)


def wait_for(check: Callable[[], bool], timeout: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise TimeoutError(f"{what} not reached within {timeout} s")
