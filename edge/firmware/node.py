# The sensor node: boot sequence, tasks, deep-sleep cycle. See docs/firmware.md.
#
# Tasks (asyncio): sampler (reads every channel each sample_s and buffers on flash), clock
# (NTP with retries, resync hourly), publisher (sends the buffer in order, acknowledges it only
# after PUBACK), health, LED, and the supervisor, the only one that feeds the watchdog.
import asyncio
import gc
import json

import clock
import status
from mqtt import MQTTClient, MQTTProto
from ringbuf import RingBuffer
from supervisor import Supervisor

gc.collect()
HEADROOM = 112  # room before the JSON in the telemetry buffer for the MQTT packet header


class Node:
    """One sensor node.

    :param cfg: the merged configuration (config.load())
    :param readers: channel readers (sensors.build(cfg)); built from cfg when None
    :param network: the network module (a fake in tests); None: no Wi-Fi (unix port, Ethernet)
    :param wdt: a machine.WDT or None
    :param tx: the telemetry buffer (bytearray), best allocated first thing at boot (main.py);
        a message holds as many readings of a batch as fit in it
    """

    def __init__(self, cfg, readers=None, network=None, wdt=None, tx=None):
        self.cfg = cfg
        if readers is None:
            import sensors

            readers = sensors.build(cfg)
        self.readers = readers
        b = cfg["buffer"]
        self.buf = RingBuffer(b["dir"], b["segments"], b["flush_n"])
        self.buf.set_tags([[c["tag"], c["unit"]] for c in cfg["channels"]])
        prefix = "aisym/%s/%s/" % (cfg["park"], cfg["node"])
        self.t_telemetry = prefix + "telemetry"
        self.t_status = prefix + "status"
        self.t_health = prefix + "health"
        self.t_cmd = prefix + "cmd"
        self.wifi = None
        if network is not None and cfg["wifi"]["ssid"]:
            from wifi import WiFi

            self.wifi = WiFi(cfg["wifi"], network, status.log)
        m = cfg["mqtt"]
        ssl = None
        if m["tls"]:
            from start import tls_context

            ssl = tls_context(m["ca"])
        self.mqtt = MQTTClient(
            "%s-%s" % (cfg["park"], cfg["node"]),
            m["host"],
            m["port"],
            user=m["user"],
            password=m["password"],
            keepalive_s=m["keepalive_s"],
            ssl=ssl,
            server_hostname=m["server_hostname"] or m["host"],
            wifi=self.wifi,
            backoff_ms=m["backoff_ms"],
            on_connect=self._birth,
            log=status.log,
        )
        self.mqtt.response_ms = m["response_ms"]
        self.mqtt.max_repubs = m["max_repubs"]
        self.mqtt.will = (self.t_status, self._status("offline", False), True)
        self.mqtt.on_message = self._on_message
        self.sup = Supervisor(cfg["watchdog_ms"], wdt, status.log)
        # a reading's JSON is at most ~260 bytes (81-char tag, 16-char unit, 19-digit seq)
        self._tx = tx if tx is not None else bytearray(m["batch"] * 200 + 160 + HEADROOM)
        self._head = (
            '{"v": 1, "park": %s, "node": %s, "readings": [' % (json.dumps(cfg["park"]), json.dumps(cfg["node"]))
        ).encode()
        self.sent = 0
        self.messages = 0
        self.scans = 0
        self._last_flush = 0

    def _status(self, state, with_ts=True):
        msg = {"v": 1, "node": self.cfg["node"], "state": state, "role": self.cfg["role"], "version": self.cfg["version"]}
        ts = clock.now_ms() if with_ts else None
        if ts is not None:
            msg["ts"] = ts
        return json.dumps(msg).encode()

    async def _birth(self, client):
        # retained 'online' on every connection: replaces the last will's 'offline'
        await MQTTProto.publish(client, self.t_status, self._status("online"), True)

    def _on_message(self, topic, payload):
        if topic == self.t_cmd:
            asyncio.create_task(self._reject(payload))

    async def _reject(self, payload):
        # a sensor node has no writable tag: refuse every setpoint, with the reason, so the
        # controller does not wait for a readback that will never come
        try:
            cmd = json.loads(payload)
            results = [
                {"tag": s["tag"], "status": "rejected", "reason": "sensor node: no writable tags"} for s in cmd["setpoints"]
            ]
            ack = {"v": 1, "id": cmd["id"], "node": self.cfg["node"], "ts": clock.now_ms() or cmd["ts"], "results": results}
        except (ValueError, KeyError, TypeError) as e:
            status.log("cmd: bad command: %r" % e)
            return
        try:
            await MQTTProto.publish(self.mqtt, self.t_cmd + "/ack", json.dumps(ack).encode())
        except OSError:
            self.mqtt.broken()

    # -- tasks -----------------------------------------------------------------------------
    async def sample_once(self):
        values = []
        for r in self.readers:
            try:
                values.extend(await r())
            except Exception as e:  # a driver bug must not stop the other channels
                status.log("sensor error: %r" % e)
        up = clock.uptime_ms()
        chans = self.cfg["channels"]
        for ch, value in values:
            # a value outside its tag's [min, max] (from the build) is sent out_of_range, never good:
            # the cloud would refuse the whole message. Inline, not a helper: code is heap on a 64 KiB board
            c = chans[ch]
            q = "comm_error" if value is None else "good"
            if q == "good" and "min" in c and not c["min"] <= value <= c["max"]:
                q = "out_of_range"
            self.buf.append(ch, value, q, up)
        self.scans += 1
        if clock.anchor is not None and self.buf.anchor is None:
            self.buf.set_anchor(clock.anchor)
        if self.buf._npend and (up - self._last_flush) >= self.cfg["buffer"]["flush_s"] * 1000:
            self.buf.flush()
        if not self.buf._npend:
            self._last_flush = up

    async def sampler(self):
        period = int(self.cfg["sample_s"] * 1000)
        while True:
            t0 = clock.uptime_ms()
            await self.sample_once()
            self.sup.alive("sampler")
            await asyncio.sleep_ms(max(10, period - (clock.uptime_ms() - t0)))

    async def clock_task(self):
        n = self.cfg["ntp"]
        while True:
            # no wait for Wi-Fi here: this task must keep checking in with the supervisor
            ok = await clock.sync(n, log=status.log)
            if ok:
                self.buf.set_anchor(clock.anchor)
                status.log("ntp: synced")
            self.sup.alive("clock")
            await asyncio.sleep_ms(n["resync_s"] * 1000 if ok else 10000)

    def telemetry(self, batch):
        """The contract's Telemetry JSON for (a prefix of) a batch from the buffer.

        Written after HEADROOM bytes into one buffer allocated at boot, while the heap is still in one piece: a
        multi-KiB allocation per message fails on a fragmented 64 KiB heap long before the heap is
        full. Returns (memoryview of the JSON, seq of the first and of the last reading in it);
        readings that do not fit wait for the next message."""
        buf = self._tx
        n = _put(buf, HEADROOM, self._head)
        first = last = -1
        room = len(buf) - 32  # '], "sent": 1763900000000}'
        for seq, tag, unit, value, quality, ts, synced in batch:
            r = {"tag": tag, "value": value, "unit": unit, "ts": ts, "quality": quality, "seq": seq}
            if not synced:
                r["ts_synced"] = False
            s = json.dumps(r).encode()
            if n + len(s) + 2 > room:
                break
            if last >= 0:
                n = _put(buf, n, b", ")
            else:
                first = seq
            n = _put(buf, n, s)
            last = seq
        sent = clock.now_ms()
        n = _put(buf, n, b"]" if sent is None else b'], "sent": %d' % sent)
        n = _put(buf, n, b"}")
        return memoryview(buf)[HEADROOM:n], first, last

    async def publish_some(self):
        """Send one batch from the buffer; True if something was sent."""
        batch = self.buf.peek(self.cfg["mqtt"]["batch"])
        if not batch:
            return False
        payload, first, last = self.telemetry(batch)
        batch = None
        await MQTTProto.publish_buf(self.mqtt, self.t_telemetry, self._tx, HEADROOM, HEADROOM + len(payload))
        self.buf.ack(last)
        self.sent += last - first + 1
        self.messages += 1
        return True

    async def publisher(self):
        while True:
            self.sup.alive("publisher")
            if not self.mqtt.up.is_set():
                await asyncio.sleep_ms(200)
                continue
            try:
                if not await self.publish_some():
                    await asyncio.sleep_ms(200)
            except OSError:
                self.mqtt.broken()  # the same batch goes again after the reconnect: same seqs, in order

    def counters(self):
        return {
            "queued": self.buf.pending(),
            "sent": self.sent,
            "messages": self.messages,
            "discards": self.buf.discards,
            "repubs": self.mqtt.repubs,
            "connects": self.mqtt.connects,
            "outages": self.mqtt.outages,
            "flushes": self.buf.flushes,
            "ntp_failures": clock.failures,
            "mem_free": gc.mem_free(),
        }

    async def health(self):
        while True:
            await asyncio.sleep_ms(self.cfg["health_s"] * 1000)
            ts = clock.now_ms()
            if ts is None or not self.mqtt.up.is_set():
                continue
            msg = {"v": 1, "node": self.cfg["node"], "ts": ts, "counters": self.counters()}
            try:
                await MQTTProto.publish(self.mqtt, self.t_health, json.dumps(msg).encode())
            except OSError:
                self.mqtt.broken()

    async def run(self, seconds=None):
        """Run every task; for `seconds` then return (tests), or forever."""
        status.log(
            "node %s/%s v%s: %d channels" % (self.cfg["park"], self.cfg["node"], self.cfg["version"], len(self.readers))
        )
        m = self.cfg["mqtt"]
        self.sup.register("sampler", int(self.cfg["sample_s"] * 1000) * 3 + 5000)
        self.sup.register("publisher", m["response_ms"] * (m["max_repubs"] + 2))
        self.sup.register("clock", self.cfg["ntp"]["resync_s"] * 2000 + 120000)
        await self.mqtt.subscribe(self.t_cmd)
        await self.mqtt.start()
        tasks = [
            asyncio.create_task(c)
            for c in (self.sampler(), self.clock_task(), self.publisher(), self.health(), status.blink())
        ]
        if self.sup.wdt is not None:
            tasks.append(asyncio.create_task(self.sup.run()))
        tasks.append(asyncio.create_task(self._show_state()))
        if seconds is None:
            await asyncio.Event().wait()
        await asyncio.sleep_ms(int(seconds * 1000))
        for t in tasks:
            t.cancel()

    async def stop(self, drain_ms=0):
        """Flush, optionally send what is left for up to drain_ms, and disconnect cleanly."""
        if drain_ms:
            from sleepcycle import drain

            await drain(self, drain_ms)
        self.buf.close()
        await self.mqtt.stop()

    async def _show_state(self):
        while True:
            if self.wifi is not None and not self.wifi.isconnected():
                status.set_state(status.NO_WIFI)
            elif not self.mqtt.up.is_set():
                status.set_state(status.NO_BROKER)
            elif clock.anchor is None:
                status.set_state(status.NO_TIME)
            else:
                status.set_state(status.OK)
            await asyncio.sleep_ms(1000)


def _put(buf, n, data):
    buf[n : n + len(data)] = data
    return n + len(data)
