"""The MQTT -> InfluxDB ingestor: a persistent, shared MQTT v5 subscription; acks after durable writes.

Threads: paho's network loop only queues messages (:meth:`Ingestor._on_message`); the decode
thread validates and batches them; the write thread alone talks to InfluxDB, the SQLite store and
the broker's acks. Decoding the next batch overlaps writing the last one (on 2 cores this doubled
the end-to-end rate), and a bounded hand-over queue passes InfluxDB's slowness back to MQTT.

The delivery rule: a QoS 1 message is acknowledged (``client.ack``, paho ``manual_ack=True``) only
after its points were answered 204 by InfluxDB, or committed to the spill queue, or it was
committed as a dead letter. A crash before that leaves it unacknowledged, and the broker
redelivers it to the persistent session (or to another member of the group); a point written
twice overwrites itself, so replay duplicates nothing.
"""

from __future__ import annotations

import logging
import os
import queue
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from aisym.contract import MAX_PAYLOAD_BYTES, Status, encode, now_ms, topics
from aisym.influx import InfluxError, InfluxV1
from aisym.park import ParkView, load_view

from .config import IngestConfig
from .health import HealthReporter
from .ownership import Ownership, load_ownership
from .processor import Processor
from .seqtrack import Fingerprints, SeqTracker
from .store import DeadLetter, Store
from .writer import Backoff, Writer

log = logging.getLogger("aisym.ingest")
KINDS = ("telemetry", "health", "status")


@dataclass
class _Msg:
    topic: str
    payload: bytes
    mid: int
    qos: int
    gen: int  # connection generation: an ack is only valid on the connection that delivered it
    received_ms: int
    retained: bool = False
    dead: DeadLetter | None = None  # refused on arrival (too large): only its prefix is kept


@dataclass
class Counters:
    """Totals since start (the health series report them, and the tests read them)."""

    messages: int = 0
    readings: int = 0
    points_written: int = 0
    dead_letters: int = 0
    refused_points: int = 0
    write_errors: int = 0
    spilled_batches: int = 0
    spilled_points: int = 0
    drained_batches: int = 0
    acks: int = 0
    stale_acks: int = 0
    connects: int = 0
    internal_errors: int = 0
    conflicts: int = 0
    retained_repeats: int = 0  # retained dead letters replayed by the broker and stored before
    spill_dropped_batches: int = 0  # oldest spilled batches deleted past the spill cap
    spill_dropped_points: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class Ingestor:
    """One ingestor instance.

    :param cfg: settings (see :class:`~cloud.ingest.config.IngestConfig`)
    :param park: the park description; loaded from ``cfg.park_file`` when None
    :param ownership: node -> tags; loaded from ``cfg.ownership_file`` when None
    """

    def __init__(self, cfg: IngestConfig, park: ParkView | None = None, ownership: Ownership | None = None):
        self.cfg = cfg
        self.park = park or load_view(cfg.park_file)  # v1 or v2
        self.park_id = self.park.park.id
        if ownership is None and cfg.ownership_file is not None:  # checked before any state is touched
            ownership = load_ownership(cfg.ownership_file, self.park)
        cfg.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # 0600 from the start (raw dead letters, spill queue); SQLite gives its -wal/-shm the same mode
        os.close(os.open(cfg.state_dir / "ingest.sqlite", os.O_CREAT | os.O_WRONLY, 0o600))
        self.store = Store(
            cfg.state_dir / "ingest.sqlite", cfg.dead_letter_max_bytes, cfg.dead_letter_prefix_bytes, cfg.spill_max_bytes
        )
        self.influx = InfluxV1(cfg.influx_url, cfg.influx_db, cfg.influx_user, cfg.influx_password, cfg.write_timeout_s)
        self.writer = Writer(self.influx)
        tracker = SeqTracker(cfg.gap_grace_s) if cfg.detect_gaps else None
        self.processor = Processor(
            self.park,
            tracker,
            ownership,
            frozenset({*cfg.service_accounts, cfg.mqtt_user}),
            int(cfg.max_ahead_s * 1000),
            Fingerprints(cfg.conflict_window),
            cfg.dead_letter_prefix_bytes,
            cfg.max_health_names,
        )
        self.processor.fingerprints.restore(self.store.load_fingerprints())
        self.processor.health_names = self.store.load_health_names()
        self._health_names: dict[str, set[str]] = {}  # new names for the write thread to save
        self._fingerprints: dict[str, tuple[int, bytes, bytes]] = {}  # snapshots for the write thread to save
        self.backoff = Backoff(cfg.backoff_initial_s, cfg.backoff_max_s)
        self.counters = Counters()
        self.health = HealthReporter(self.park_id, cfg.client_id)
        self._cv = threading.Condition()
        self._pending: deque[_Msg] = deque()
        self._pending_bytes = 0
        self._gen = 0
        self._stopping = False
        self._closed = False
        self._threads: list[threading.Thread] = []
        # decoded batches for the write thread; two waiting at most, so a slow InfluxDB slows intake
        self._batches: queue.Queue = queue.Queue(maxsize=2)
        self._spilled, self._spilled_points = self.store.spill_depth()
        self._next_drain = 0.0
        self._status_topic = topics.status(self.park_id, cfg.mqtt_user)
        self.client = self._make_client()

    # -- MQTT side (paho's thread) ------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.cfg.client_id, protocol=mqtt.MQTTv5, manual_ack=True)
        c.username_pw_set(self.cfg.mqtt_user, self.cfg.mqtt_password)
        if self.cfg.mqtt_ca_file:
            c.tls_set(ca_certs=str(self.cfg.mqtt_ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        c.reconnect_delay_set(1, 5)
        will = Status(v=1, node=self.cfg.mqtt_user, state="offline", role="ingestor")
        c.will_set(self._status_topic, encode(will), qos=1, retain=True)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        return c

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        with self._cv:
            self._gen += 1
            self.counters.connects += 1
        # A kept session already has them, but subscribing again is harmless and covers a lost one.
        for kind in KINDS:
            filt = topics.subscription(kind, self.park_id)
            client.subscribe(topics.shared(self.cfg.group, filt) if self.cfg.group else filt, qos=1)
        online = Status(v=1, node=self.cfg.mqtt_user, state="online", ts=now_ms(), role="ingestor")
        client.publish(self._status_topic, encode(online), qos=1, retain=True)
        log.info("connected to %s:%s (session present: %s)", self.cfg.mqtt_host, self.cfg.mqtt_port, flags.session_present)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._cv:
            self._gen += 1  # acks for messages of the old connection would hit a new connection's mids
        log.warning("disconnected from the broker: %s", reason_code)

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        payload, dead, received = msg.payload, None, now_ms()
        if len(payload) > MAX_PAYLOAD_BYTES:  # refused before it is decoded, or queued at its full size
            reason = f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}"
            prefix = self.cfg.dead_letter_prefix_bytes
            dead = DeadLetter.of(msg.topic, "", reason, payload, received, "too_large", msg.retain, prefix)
            payload = b""
        with self._cv:
            # A byte budget for what waits to be decoded: the broker may have 1,000 messages of up to
            # 256 KiB in flight to us. Waiting here holds back paho's reads (TCP pushes back on the
            # broker); at most 2 s, so that paho still sends its keep-alives if the decode is stuck.
            deadline = time.monotonic() + 2.0
            while self._pending_bytes > self.cfg.max_pending_bytes and not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cv.wait(left)
            self._pending.append(_Msg(msg.topic, bytes(payload), msg.mid, msg.qos, self._gen, received, msg.retain, dead))
            self._pending_bytes += len(payload)
            self._cv.notify_all()

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> Ingestor:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.cfg.session_expiry_s
        props.ReceiveMaximum = self.cfg.receive_maximum
        props.MaximumPacketSize = self.cfg.mqtt_max_packet  # the broker never sends us a bigger packet
        self._threads = [
            threading.Thread(target=self._run_decode, name="ingest-decode", daemon=True),
            threading.Thread(target=self._run_write, name="ingest-write", daemon=True),
        ]
        for t in self._threads:
            t.start()
        self.client.connect_async(self.cfg.mqtt_host, self.cfg.mqtt_port, 30, clean_start=False, properties=props)
        self.client.loop_start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Flush what was received, then disconnect (pending spill stays queued for the next start)."""
        if self._closed:
            return
        self._closed = True
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        offline = Status(v=1, node=self.cfg.mqtt_user, state="offline", ts=now_ms(), role="ingestor")
        self.client.publish(self._status_topic, encode(offline), qos=1, retain=True)
        self.client.disconnect()
        self.client.loop_stop()
        self.store.close()
        self.influx.close()

    def __enter__(self) -> Ingestor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    @property
    def connected(self) -> bool:
        return self.client.is_connected()

    def spill_depth(self) -> tuple[int, int]:
        return self.store.spill_depth()

    # -- decode thread ---------------------------------------------------------------------------
    def _run_decode(self) -> None:
        """Decode and batch; hand each batch (messages, lines, dead letters) to the write thread."""
        batch: list[_Msg] = []
        lines: list[str] = []
        dead: list[DeadLetter] = []
        started = 0.0
        next_health = time.monotonic() + self.cfg.health_interval_s
        while True:
            now = time.monotonic()
            deadline = min(next_health, started + self.cfg.linger_s if batch else now + self.cfg.linger_s)
            with self._cv:
                if not self._pending and not self._stopping:
                    self._cv.wait(max(0.0, deadline - now))
                taken = list(self._pending)
                self._pending.clear()
                self._pending_bytes = 0
                self._cv.notify_all()  # paho's thread may wait for room
                stopping = self._stopping
            for m in taken:
                if not batch:
                    started = time.monotonic()
                batch.append(m)
                if m.dead is not None:
                    dead.append(m.dead)
                    continue
                out = self.processor.handle(m.topic, m.payload, m.received_ms, m.retained)
                m.payload = b""  # only the mid is needed until the ack: do not hold 1000 payloads
                if out.dead is not None:
                    dead.append(out.dead)
                    self.counters.conflicts += out.conflicts
                if out.lines:  # a message with a conflicting reading has both: its other readings are written
                    lines += out.lines
                    self.counters.readings += out.readings
                if len(lines) >= self.cfg.batch_points:  # full: hand it over now, InfluxDB likes ~5k points
                    self._batches.put((batch, lines, dead))
                    batch, lines, dead = [], [], []
            self.counters.messages += len(taken)
            now = time.monotonic()
            if batch and (now - started >= self.cfg.linger_s or stopping):
                self._batches.put((batch, lines, dead))  # blocks while two batches wait: back-pressure
                batch, lines, dead = [], [], []
            if now >= next_health or stopping:
                try:
                    self._batches.put(([], self._health_lines(), []))
                except Exception:  # a health report is not worth stopping ingest for
                    self._unexpected("reporting health")
                next_health = now + self.cfg.health_interval_s
            if stopping:
                with self._cv:
                    if not self._pending:
                        self._batches.put(None)
                        return

    def _health_lines(self) -> list[str]:
        self.processor.expire_gaps(time.time())
        snapshot = self.processor.fingerprints.snapshot()
        names, self.processor.new_health_names = self.processor.new_health_names, {}
        with self._cv:
            pending = len(self._pending)
            self._fingerprints.update(snapshot)
            for node, new in names.items():
                self._health_names.setdefault(node, set()).update(new)
        return self.health.lines(
            self.processor, self.counters, self._spilled, self._spilled_points, pending, store=self.store
        )

    # -- write thread: the only user of InfluxDB, the SQLite store and acks --------------------
    def _run_write(self) -> None:
        while True:
            wait = max(0.01, self._next_drain - time.monotonic()) if self._spilled else 1.0
            try:
                item = self._batches.get(timeout=wait)
            except queue.Empty:
                item = ()
            if item is None:  # stopping: one last try at the backlog, then leave it for the next start
                self._save_fingerprints()
                if self._spilled and time.monotonic() >= self._next_drain:
                    self._drain(max_batches=0)
                return
            if item:
                self._flush_until_done(item)
                if not item[0]:  # a health report: the fingerprints' snapshot came with it
                    self._save_fingerprints()
            if self._spilled and time.monotonic() >= self._next_drain:
                try:
                    self._drain(max_batches=1)
                except Exception:  # the batch stays in the spill queue; try again after a backoff
                    self._unexpected("draining the spill queue")
                    self._next_drain = time.monotonic() + self.backoff.next_wait()

    def _flush_until_done(self, item: tuple) -> None:
        """Flush a batch; on an unexpected error (disk full, a bug) retry it, never drop or ack it.

        The batch's messages stay unacknowledged meanwhile, so the broker still holds them.
        """
        while True:
            try:
                self._flush(*item)
                return
            except Exception:
                self._unexpected("writing a batch")
                if self._closed and self._stopping:
                    return  # shutting down: the broker redelivers the unacked messages
                time.sleep(self.backoff.next_wait())

    def _save_fingerprints(self) -> None:
        with self._cv:
            snapshot, self._fingerprints = self._fingerprints, {}
            names, self._health_names = self._health_names, {}
        try:
            self.store.save_fingerprints(snapshot)
            self.store.save_health_names(names)
        except Exception:  # conflict detection after a restart is worth less than the ingest itself
            self._unexpected("saving the conflict fingerprints")

    def _unexpected(self, what: str) -> None:
        self.counters.internal_errors += 1
        log.exception("unexpected error while %s; retrying", what)

    def _flush(self, batch: list[_Msg], lines: list[str], dead: list[DeadLetter]) -> None:
        if lines:
            dead = dead + self._write_or_spill(lines)
        if dead:
            skipped = self.store.retained_skipped
            self.counters.dead_letters += self.store.add_dead_letters(dead)
            self.counters.retained_repeats += self.store.retained_skipped - skipped
        self._ack(batch)

    def _write_or_spill(self, lines: list[str]) -> list[DeadLetter]:
        """Write now, or spill (committed) when InfluxDB cannot take it. Returns refused points."""
        if not self._spilled:  # while a backlog waits, newer batches queue behind it instead of hammering
            try:
                res = self.writer.write(lines)
                self.counters.points_written += res.written
                self.counters.refused_points += len(res.refused)
                self.backoff.reset()
                return res.refused
            except InfluxError as e:
                self.counters.write_errors += 1
                self._next_drain = time.monotonic() + self.backoff.next_wait(e.retry_after)
                log.warning("InfluxDB write failed, spilling %d points: %s", len(lines), e)
        drop = self.store.spill(lines)
        self._spilled += 1 - drop.batches
        self._spilled_points += len(lines) - drop.points
        self.counters.spilled_batches += 1
        self.counters.spilled_points += len(lines)
        if drop.batches:
            self.counters.spill_dropped_batches += drop.batches
            self.counters.spill_dropped_points += drop.points
            log.error(
                "spill queue past its cap of %d bytes: deleted the %d oldest batches (%d points, spilled %s .. %s ms)",
                self.cfg.spill_max_bytes, drop.batches, drop.points, drop.first_ms, drop.last_ms,
            )
        return []

    def _drain(self, max_batches: int) -> None:
        """Write spilled batches oldest first, at most ``max_batches`` (0: all) before going back to new ones."""
        n = 0
        while self._spilled and (max_batches == 0 or n < max_batches):
            item = self.store.oldest_spilled()
            if item is None:
                self._spilled = self._spilled_points = 0
                return
            batch_id, lines = item
            try:
                res = self.writer.write(lines)
            except InfluxError as e:
                self.counters.write_errors += 1
                self._next_drain = time.monotonic() + self.backoff.next_wait(e.retry_after)
                return
            if res.refused:
                self.counters.dead_letters += self.store.add_dead_letters(res.refused)
                self.counters.refused_points += len(res.refused)
            self.store.drop_spilled(batch_id)  # only after the 204: a crash here rewrites, never loses
            self.counters.points_written += res.written
            self.counters.drained_batches += 1
            self._spilled -= 1
            self._spilled_points -= len(lines)
            self.backoff.reset()
            n += 1

    def _ack(self, batch: list[_Msg]) -> None:
        with self._cv:
            gen = self._gen
        for m in batch:
            if m.qos == 0:
                continue
            if m.gen != gen:
                self.counters.stale_acks += 1  # the broker redelivers it on the new connection
                continue
            self.client.ack(m.mid, m.qos)
            self.counters.acks += 1
