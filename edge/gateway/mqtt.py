"""MQTT v5 uplink: drains the spool through a sliding window of QoS 1 messages.

paho-mqtt 2.x runs its network loop in its own thread; every callback is handed to the
asyncio loop with ``call_soon_threadsafe`` so the spool is only ever touched from one thread.

- Birth and last will: a retained :class:`~aisym.contract.Status` ``online`` on connect, and
  the broker publishes the retained ``offline`` will if the gateway vanishes.
- Window: at most ``broker.window`` telemetry messages are in flight. paho keeps every
  unacknowledged message in a dict scanned on each ack and its message ids wrap at 65535, so
  handing it a whole backlog at once breaks (see docs/gateway.md).
- A reading leaves the spool only when its message's PUBACK arrives with a success reason
  code. A PUBACK with a failure code (e.g. 135, not authorised) is permanent: those readings
  are dropped and counted, since resending would be refused forever.
- Commands are subscribed with "retain as published", so a command carrying the retain flag is
  seen as retained whether it was stored by the broker or published live; the setpoint manager
  refuses it (``rejected_retained``).
- On a lost connection paho resends its in-flight messages after reconnecting (same message
  ids), so the window is kept across reconnects; on a restart everything still in the spool is
  sent again: delivery is at least once and consumers deduplicate on (node, seq).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from pydantic import ValidationError

from aisym.contract import Health, Reading, Status, Telemetry, encode, now_ms, topics
from aisym.contract.payload import MAX_HEALTH_COUNTERS

from .config import Broker
from .spool import Row, Spool

log = logging.getLogger("aisym.gateway.mqtt")
VERSION = "0.1.0"


class Uplink:
    """The gateway's MQTT session.

    :param broker: broker settings (credentials are resolved here, at start)
    :param park: park id (topic)
    :param node: node id (topic, client id)
    :param spool: spool to drain
    :param on_command: called in the event loop with the raw payload of each command, whether it
        carried the MQTT retain flag, and the seconds of its MQTT 5 message expiry left at delivery
        (None when the publisher set none)
    :param now_ms: the gateway's clock (:mod:`edge.gateway.clock`) for birth, health and telemetry times
    """

    def __init__(
        self,
        broker: Broker,
        park: str,
        node: str,
        spool: Spool,
        on_command: Callable[[bytes, bool, float | None], None] | None = None,
        now_ms: Callable[[], int] = now_ms,
    ):
        self.now_ms = now_ms
        self.broker = broker
        self.park = park
        self.node = node
        self.spool = spool
        self.on_command = on_command
        self.on_connected: Callable[[], None] | None = None  # e.g. report the backlog at once
        self.loop: asyncio.AbstractEventLoop | None = None
        self.connected = asyncio.Event()
        self.inflight: dict[int, list[int]] = {}  # message id -> seqs it carries
        self.cursor = 0  # highest seq handed to paho
        self.counters = {"broker_refused": 0, "invalid": 0, "connects": 0, "disconnects": 0}
        self._wake = asyncio.Event()
        self._lock = threading.Lock()
        self.client = self._make_client()

    def _make_client(self) -> paho.Client:
        b = self.broker
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id=b.client_id or self.node, protocol=paho.MQTTv5)
        # paho's own queue limit stays unlimited: the window, not paho, bounds what is queued.
        c.max_inflight_messages_set(b.window + 20)  # + room for status, health and acks
        user = b.username
        if user is not None:
            c.username_pw_set(user, b.password())
        if b.tls is not None:
            ctx = ssl.create_default_context(cafile=str(b.tls.ca_file))
            if b.tls.cert_file is not None:
                ctx.load_cert_chain(str(b.tls.cert_file), str(b.tls.key_file) if b.tls.key_file else None)
            c.tls_set_context(ctx)
        will = Status(v=1, node=self.node, state="offline", role="gateway", version=VERSION)
        c.will_set(topics.status(self.park, self.node), encode(will), qos=1, retain=True)
        c.reconnect_delay_set(min_delay=1, max_delay=8)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_publish = self._on_publish
        c.on_message = self._on_message
        return c

    # ------------------------------------------------------------ paho thread -> loop
    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(fn, *args)

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, rc: Any, props: Any = None) -> None:
        if rc.is_failure:
            log.error("broker refused the connection: %s", rc)
            return
        birth = Status(v=1, node=self.node, state="online", ts=self.now_ms(), role="gateway", version=VERSION)
        client.publish(topics.status(self.park, self.node), encode(birth), qos=1, retain=True)
        # retainAsPublished: a live retained publish keeps its flag (by default MQTT v5 clears it)
        client.subscribe(topics.command(self.park, self.node), options=SubscribeOptions(qos=1, retainAsPublished=True))
        self._call(self._connected)

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, rc: Any, props: Any = None) -> None:
        self._call(self._disconnected)

    def _on_publish(self, client: paho.Client, userdata: Any, mid: int, rc: Any, props: Any = None) -> None:
        self._call(self._acked, mid, bool(rc.is_failure), str(rc))

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        if self.on_command is not None:
            # The broker counts a v5 message expiry down while it holds the message: what is left
            # is a command's remaining life measured without anyone's wall clock.
            left = getattr(msg.properties, "MessageExpiryInterval", None) if msg.properties is not None else None
            self._call(self.on_command, bytes(msg.payload), bool(msg.retain), None if left is None else float(left))

    # ------------------------------------------------------------ loop side
    def _connected(self) -> None:
        self.counters["connects"] += 1
        self.connected.set()
        if self.on_connected is not None:
            self.on_connected()
        self._wake.set()

    def _disconnected(self) -> None:
        self.counters["disconnects"] += 1
        self.connected.clear()

    def _acked(self, mid: int, failed: bool, reason: str) -> None:
        seqs = self.inflight.pop(mid, None)
        if seqs is None:
            return  # status, health or ack message
        if failed:
            log.error("broker refused telemetry (%s): dropping %d readings", reason, len(seqs))
            self.counters["broker_refused"] += 1
            self.spool.ack(seqs, counter="dropped")
        else:
            self.spool.ack(seqs)
        self._wake.set()

    def wake(self) -> None:
        """Tell the drain loop that new readings are spooled."""
        self._wake.set()

    def publish_json(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Publish a non-spooled message (health, acks): QoS 1, best effort when offline."""
        self.client.publish(topic, payload, qos=1, retain=retain)

    def _telemetry(self, rows: list[Row]) -> tuple[bytes | None, list[Row]]:
        """The message for ``rows``, and the rows the contract refuses (a clock before 2000, an
        infinite value...): those are dropped and counted, so one bad row cannot crash-loop the
        gateway on every restart."""
        readings, bad = [], []
        for r in rows:
            try:
                quality: Any = r.quality
                readings.append(
                    Reading(tag=r.tag, value=r.value, unit=r.unit, ts=r.ts, quality=quality, seq=r.seq, ts_synced=r.ts_synced)
                )
            except ValidationError as e:
                log.error("dropping seq %d, refused by the contract: %s", r.seq, e.errors(include_url=False)[0]["msg"])
                bad.append(r)
        if not readings:
            return None, bad
        return encode(Telemetry(v=1, park=self.park, node=self.node, readings=readings, sent=self.now_ms())), bad

    async def drain(self) -> None:
        """Forever: fill the window from the spool while connected."""
        topic = topics.telemetry(self.park, self.node)
        while True:
            self._wake.clear()
            if self.connected.is_set():
                while len(self.inflight) < self.broker.window:
                    rows = self.spool.pending(self.cursor, self.broker.batch)
                    if not rows:
                        break
                    payload, bad = self._telemetry(rows)
                    self.cursor = rows[-1].seq
                    if bad:
                        self.counters["invalid"] += len(bad)
                        self.spool.ack([r.seq for r in bad], counter="dropped")
                    if payload is not None:
                        info = self.client.publish(topic, payload, qos=1)
                        bad_seqs = {r.seq for r in bad}
                        self.inflight[info.mid] = [r.seq for r in rows if r.seq not in bad_seqs]
            # A plain wait: Python 3.11's wait_for can swallow a cancellation when the event is
            # set at the same instant (bpo-42130), which would leave shutdown hanging.
            await self._wake.wait()

    def health(self, counters: dict[str, float]) -> None:
        """Publish health; past the contract's :data:`MAX_HEALTH_COUNTERS` the last ones (per-device
        counters come last) are left out and their number sent as ``counters_omitted``."""
        if len(counters) > MAX_HEALTH_COUNTERS:
            items = list(counters.items())
            keep = MAX_HEALTH_COUNTERS - 1
            counters = dict(items[:keep]) | {"counters_omitted": float(len(items) - keep)}
        msg = Health(v=1, node=self.node, ts=self.now_ms(), counters=counters)
        self.publish_json(topics.health(self.park, self.node), encode(msg))

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 0
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=self.broker.keepalive_s, properties=props)
        self.client.loop_start()

    async def stop(self) -> None:
        """Clean shutdown: publish ``offline`` (a clean disconnect suppresses the will)."""
        if self.connected.is_set():
            msg = Status(v=1, node=self.node, state="offline", ts=self.now_ms(), role="gateway", version=VERSION)
            info = self.client.publish(topics.status(self.park, self.node), encode(msg), qos=1, retain=True)
            for _ in range(20):
                if info.is_published():
                    break
                await asyncio.sleep(0.05)
        self.client.disconnect()
        self.client.loop_stop()
