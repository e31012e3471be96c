"""The latest value of every tag, from the telemetry stream, or from InfluxDB after a restart."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from aisym.contract import Telemetry


@dataclass
class Latest:
    """One tag's newest reading."""

    value: float | None
    ts_ms: int
    quality: str
    node: str


class LatestState:
    """Newest reading per tag (thread-safe: paho's thread writes, the control loop reads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.readings: dict[str, Latest] = {}
        self.messages = 0

    def update(self, msg: Telemetry) -> None:
        with self._lock:
            self.messages += 1
            for r in msg.readings:
                old = self.readings.get(r.tag)
                if old is None or r.ts >= old.ts_ms:  # a spooled old reading never hides a newer one
                    self.readings[r.tag] = Latest(r.value, r.ts, r.quality, msg.node)

    def put(self, tag: str, latest: Latest) -> None:
        with self._lock:
            old = self.readings.get(tag)
            if old is None or latest.ts_ms >= old.ts_ms:
                self.readings[tag] = latest

    def fresh(self, tag: str, now_ms: int, max_age_ms: float) -> float | None:
        """The tag's value if it is good and at most ``max_age_ms`` old, else None."""
        with self._lock:
            r = self.readings.get(tag)
        if r is None or r.value is None or r.quality != "good" or now_ms - r.ts_ms > max_age_ms:
            return None
        return float(r.value)

    def age_ms(self, tag: str, now_ms: int) -> float | None:
        with self._lock:
            r = self.readings.get(tag)
        return None if r is None else float(now_ms - r.ts_ms)


def load_latest(client, tags: list[str], state: LatestState, trust=None) -> int:
    """Fill ``state`` with each tag's last stored reading in InfluxDB (the contract's mapping:
    measurement = asset, tag ``signal``); returns how many tags were found.

    With ``trust`` (:class:`~.trust.Trust`), a tag's reading is the last one its owner stored within
    the tag's range and at most ``trust.max_ahead_ms`` ahead of now: what the stream would have
    given the controller. The ``node`` of each restored reading is the series' node.

    :param client: :class:`aisym.influx.InfluxV1` with read access to the park's database
    """
    found = 0
    by_asset: dict[str, list[str]] = {}
    for t in tags:
        asset, _, signal = t.partition(".")
        by_asset.setdefault(asset, []).append(signal)
    for asset, signals in by_asset.items():
        where = " OR ".join(_condition(asset, s, trust) for s in signals)
        if trust is not None:
            where = f"({where}) AND time <= now() + {int(trust.max_ahead_ms)}ms"
        rows = client.rows(f'SELECT last("value") AS "value", "quality" FROM "{asset}" WHERE {where} '
                           'GROUP BY "signal", "node"')
        best: dict[str, Latest] = {}
        for r in rows:
            signal, node = r.get("signal"), str(r.get("node") or "influxdb")
            if signal is None or r.get("value") is None:
                continue
            if trust is not None and trust.owner_problem(node, f"{asset}.{signal}"):
                continue
            latest = Latest(float(r["value"]), int(r["time"]), str(r.get("quality") or "good"), node)
            if signal not in best or latest.ts_ms > best[signal].ts_ms:
                best[signal] = latest
        for signal, latest in best.items():
            state.put(f"{asset}.{signal}", latest)
            found += 1
    return found


def _condition(asset: str, signal: str, trust) -> str:
    if trust is None:
        return f"signal = '{signal}'"
    from aisym.contract.lineprotocol import range_slack

    low, high = trust.bounds(f"{asset}.{signal}")
    slack = range_slack(low, high)
    low, high = low - slack, high + slack
    # a point of another quality keeps its value whatever it is: only a good one must lie in the range
    # (fixed-point numbers: InfluxQL 1.x does not parse an exponent)
    return f"""(signal = '{signal}' AND ("quality" != 'good' OR ("value" >= {low:.15f} AND "value" <= {high:.15f})))"""
