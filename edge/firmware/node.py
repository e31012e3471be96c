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


class Node:
    """One sensor node.

    :param cfg: the merged configuration (config.load())
    :param readers: channel readers (sensors.build(cfg)); built from cfg when None
    :param network: the network module (a fake in tests); None: no Wi-Fi (unix port, Ethernet)
    :param wdt: a machine.WDT or None
    """

    def __init__(self, cfg, readers=None, network=None, wdt=None):
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
            ssl = _tls_context(m["ca"])
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
        for ch, value in values:
            self.buf.append(ch, value, "good" if value is not None else "comm_error", up)
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
        """The contract's Telemetry JSON for a batch from the buffer, built reading by reading
        (one small dict at a time: a 50-reading message as one dict tree would need ~20 KiB)."""
        parts = [
            '{"v": 1, "park": %s, "node": %s, "readings": [' % (json.dumps(self.cfg["park"]), json.dumps(self.cfg["node"]))
        ]
        for seq, tag, unit, value, quality, ts, synced in batch:
            r = {"tag": tag, "value": value, "unit": unit, "ts": ts, "quality": quality, "seq": seq}
            if not synced:
                r["ts_synced"] = False
            parts.append(json.dumps(r))
            parts.append(", ")
        parts[-1] = "]"
        sent = clock.now_ms()
        if sent is not None:
            parts.append(', "sent": %d' % sent)
        parts.append("}")
        return "".join(parts).encode()

    async def publish_some(self):
        """Send one batch from the buffer; True if something was sent."""
        batch = self.buf.peek(self.cfg["mqtt"]["batch"])
        if not batch:
            return False
        first, last = batch[0][0], batch[-1][0]
        payload = self.telemetry(batch)
        batch = None
        gc.collect()
        await MQTTProto.publish(self.mqtt, self.t_telemetry, payload)
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
            await self.drain(drain_ms)
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

    async def drain(self, max_ms):
        """Send what the buffer holds (flushing it first) for at most max_ms; True once empty."""
        self.buf.flush()
        t0 = clock.uptime_ms()
        while clock.uptime_ms() - t0 < max_ms:
            if not self.mqtt.up.is_set():
                await asyncio.sleep_ms(50)
                continue
            try:
                if not await self.publish_some():
                    return True
            except OSError:
                self.mqtt.broken()
        return False

    async def cycle(self, max_ms=30000):
        """Deep-sleep mode: one scan, then try to send everything buffered within max_ms."""
        await self.sample_once()
        self.buf.flush()  # the board is about to lose its RAM
        await self.mqtt.subscribe(self.t_cmd)
        await self.mqtt.start()
        if clock.anchor is None and await clock.sync(self.cfg["ntp"], log=status.log):
            self.buf.set_anchor(clock.anchor)
        await self.drain(max_ms)
        self.buf.close()
        await self.mqtt.stop(clean=True)  # a clean DISCONNECT: the will ('offline') is not sent


def _tls_context(ca):
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca:
        ctx.load_verify_locations(cafile=ca)
        ctx.verify_mode = ssl.CERT_REQUIRED  # type: ignore[attr-defined]  # MicroPython has it; the stub lacks it
    else:
        ctx.verify_mode = ssl.CERT_NONE  # type: ignore[attr-defined]
    return ctx


def main(path="config.json"):
    """Entry point from main.py: load config, start the watchdog, run (or sleep-cycle) forever."""
    import sys

    import config

    try:
        cfg = config.load(path)
        del sys.modules["config"]  # the defaults are merged in: free their ~9 KiB of heap
        del config
        gc.collect()
    except ValueError as e:
        status.set_state(status.CONFIG_ERROR)
        status.log("config error: %s" % e)
        asyncio.run(status.blink())
        return
    status.init_led(cfg["led_pin"])
    import machine

    try:
        import network as net
    except ImportError:
        net = None  # type: ignore[assignment]  # no Wi-Fi module: a wired or unix-port node
    wdt = machine.WDT(timeout=cfg["watchdog_ms"]) if cfg["watchdog_ms"] and hasattr(machine, "WDT") else None
    node = Node(cfg, network=net, wdt=wdt)
    if cfg["deep_sleep_s"] > 0:
        asyncio.run(node.cycle())
        machine.deepsleep(cfg["deep_sleep_s"] * 1000)
    asyncio.run(node.run())
