# Asyncio MQTT 3.1.1 client for the sensor node, written for this project.
#
# Two layers, as in Peter Hinch's mqtt_as design: MQTTProto speaks the protocol over one
# connection (CONNECT with last will, QoS 1 PUBLISH with retransmission, SUBSCRIBE,
# PINGREQ) and raises OSError whenever the link is broken or silent. MQTTClient adds survival:
# one task reconnects with backoff (Wi-Fi first, then the broker), sends the birth message and
# re-subscribes on every connection, and `publish` waits out an outage instead of failing.
# OSError is the single "link broke" signal between the layers.
import asyncio
import socket
import struct
import time

CONNACK_CODES = {
    1: "bad protocol",
    2: "client id refused",
    3: "server unavailable",
    4: "bad user or password",
    5: "not authorised",
}


class MQTTRefused(OSError):
    """The broker answered CONNACK with a refusal (bad password, ACL...)."""


def _varlen(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return out


def _str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!H", len(b)) + b


def _resolve(host, port):
    """Dotted IPv4 address of `host` (a board's sockaddr is a tuple, the unix port's raw bytes)."""
    addr = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0][-1]
    if isinstance(addr, tuple):
        return addr[0]
    return "%d.%d.%d.%d" % (addr[4], addr[5], addr[6], addr[7])  # struct sockaddr_in


class MQTTProto:
    """One MQTT 3.1.1 connection. Every failure of the link raises OSError."""

    def __init__(self, client_id, host, port=1883, user="", password="", keepalive_s=60, ssl=None, server_hostname=None):
        self.client_id = client_id
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.keepalive_s = keepalive_s
        self.ssl = ssl
        self.server_hostname = server_hostname
        self.will = None  # (topic, payload, retain)
        self.on_message = None  # callback(topic: str, payload: bytes)
        self.response_ms = 10000
        self.max_repubs = 4
        self.repubs = 0
        self._r = None
        self._w = None
        self._pid = 0
        self._acks = set()  # packet ids acknowledged (PUBACK/SUBACK) not yet collected
        self._last_rx = time.ticks_ms()
        self._last_tx = time.ticks_ms()
        self._wlock = asyncio.Lock()
        self._ip = None  # the broker's address, resolved once (mqtt_as: a lookup blocks during an outage)
        self._ackev = asyncio.Event()  # set by the reader on every PUBACK/SUBACK and on close

    def _next_pid(self):
        self._pid = self._pid % 65535 + 1
        return self._pid

    async def _send(self, data, payload=None):
        # a large payload goes out as its own write (no multi-KiB copy on a small heap); a small
        # one is joined to its header, as two writes cost a delayed-ACK round (~40 ms) each
        if payload is not None and len(payload) < 512:
            data = data + payload
            payload = None
        if self._w is None:
            raise OSError("not connected")
        async with self._wlock:
            self._w.write(data)
            if payload is not None:
                self._w.write(payload)
            await self._w.drain()
        self._last_tx = time.ticks_ms()

    async def _read(self, n):
        if self._r is None:
            raise OSError("not connected")
        data = await self._r.readexactly(n)
        if len(data) < n:
            raise OSError("connection closed")
        return data

    async def open(self, clean=True):
        """Connect the socket and send CONNECT; returns the CONNACK session-present flag."""
        self.close()
        if self._ip is None:
            self._ip = _resolve(self.host, self.port)
        if self.ssl is not None:
            self._r, self._w = await asyncio.open_connection(
                self._ip, self.port, ssl=self.ssl, server_hostname=self.server_hostname or self.host
            )
        else:
            self._r, self._w = await asyncio.open_connection(self._ip, self.port)
        flags = 0x02 if clean else 0
        body = bytearray(b"\x00\x04MQTT\x04\x00")
        body += struct.pack("!H", self.keepalive_s)
        body += _str(self.client_id)
        if self.will:
            topic, msg, retain = self.will
            flags |= 0x04 | 0x08 | (0x20 if retain else 0)  # will flag, will QoS 1, retain
            body += _str(topic) + _str(msg)
        if self.user:
            flags |= 0x80
            body += _str(self.user)
            if self.password:
                flags |= 0x40
                body += _str(self.password)
        body[7] = flags
        await self._send(b"\x10" + _varlen(len(body)) + body)
        hdr = await asyncio.wait_for_ms(self._read(4), self.response_ms)  # type: bytes
        if hdr[0] != 0x20 or hdr[1] != 2:
            raise OSError("bad CONNACK")
        if hdr[3]:
            raise MQTTRefused("CONNACK %d: %s" % (hdr[3], CONNACK_CODES.get(hdr[3], "refused")))
        self._last_rx = time.ticks_ms()
        self._acks = set()
        return bool(hdr[2] & 1)

    def close(self):
        if self._w is not None:
            try:
                self._w.close()
            except OSError:
                pass
        self._w = None
        self._r = None
        self._ackev.set()  # wake a publisher waiting for an ack that will not come

    async def disconnect(self):
        """Clean DISCONNECT: the broker discards the last will (a deep-sleeping node is not 'offline')."""
        try:
            await self._send(b"\xe0\x00")
        except OSError:
            pass
        self.close()

    async def _wait_ack(self, pid, timeout_ms):
        t0 = time.ticks_ms()
        while pid not in self._acks:
            if self._w is None:
                raise OSError("connection lost")
            left = timeout_ms - time.ticks_diff(time.ticks_ms(), t0)
            if left <= 0:
                return False
            self._ackev.clear()
            try:
                await asyncio.wait_for_ms(self._ackev.wait(), min(left, 1000))
            except asyncio.TimeoutError:
                pass
        self._acks.discard(pid)
        return True

    async def publish(self, topic, msg, retain=False, qos=1):
        """Publish; with QoS 1 resend (DUP) until PUBACK, `max_repubs` times, then raise OSError."""
        t = _str(topic)
        if qos == 0:
            await self._send(bytes([0x30 | retain]) + _varlen(len(t) + len(msg)) + t, msg)
            return
        pid = self._next_pid()
        head = _varlen(len(t) + 2 + len(msg))
        first = 0x32 | (1 if retain else 0)
        await self._send(bytes([first]) + head + t + struct.pack("!H", pid), msg)
        for _ in range(self.max_repubs):
            if await self._wait_ack(pid, self.response_ms):
                return
            self.repubs += 1
            await self._send(bytes([first | 0x08]) + head + t + struct.pack("!H", pid), msg)
        if not await self._wait_ack(pid, self.response_ms):
            raise OSError("no PUBACK for packet %d" % pid)

    async def publish_buf(self, topic, buf, start, end, retain=False):
        """QoS 1 publish of buf[start:end] as one TCP write, without copying the payload.

        The packet header is written into buf just before `start` (the caller leaves room):
        two writes per message would meet Nagle's algorithm and the broker's delayed ACK
        (~40 ms a message); one write of a copy would need a second multi-KiB block on the heap."""
        t = _str(topic)
        pid = self._next_pid()
        hdr = bytes([0x32 | (1 if retain else 0)]) + _varlen(len(t) + 2 + end - start) + t + struct.pack("!H", pid)
        if len(hdr) > start:
            raise ValueError("publish_buf: %d bytes of headroom needed" % len(hdr))
        at = start - len(hdr)
        buf[at:start] = hdr
        packet = memoryview(buf)[at:end]
        await self._send(packet)
        for _ in range(self.max_repubs):
            if await self._wait_ack(pid, self.response_ms):
                return
            self.repubs += 1
            buf[at] |= 0x08  # DUP
            await self._send(packet)
        if not await self._wait_ack(pid, self.response_ms):
            raise OSError("no PUBACK for packet %d" % pid)

    async def subscribe(self, topic, qos=1):
        pid = self._next_pid()
        t = _str(topic)
        await self._send(b"\x82" + _varlen(len(t) + 3) + struct.pack("!H", pid) + t + bytes([qos]))
        if not await self._wait_ack(pid, self.response_ms):
            raise OSError("no SUBACK for %s" % topic)

    async def ping(self):
        await self._send(b"\xc0\x00")

    def silent_ms(self):
        return time.ticks_diff(time.ticks_ms(), self._last_rx)

    async def read_loop(self):
        """Read packets until the link breaks (raises OSError)."""
        while True:
            first = (await self._read(1))[0]
            n = 0
            shift = 0
            while True:
                b = (await self._read(1))[0]
                n |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            body = await self._read(n) if n else b""
            self._last_rx = time.ticks_ms()
            kind = first & 0xF0
            if kind in (0x40, 0x90):  # PUBACK, SUBACK
                self._acks.add(struct.unpack_from("!H", body)[0])
                self._ackev.set()
            elif kind == 0x30:
                await self._incoming(first, body)

    async def _incoming(self, first, body):
        tlen = struct.unpack_from("!H", body)[0]
        topic = bytes(body[2 : 2 + tlen]).decode()
        pos = 2 + tlen
        qos = (first >> 1) & 3
        if qos:
            pid = body[pos : pos + 2]
            pos += 2
            await self._send(b"\x40\x02" + pid)
        if self.on_message:
            self.on_message(topic, bytes(body[pos:]))


class MQTTClient(MQTTProto):
    """A connection that survives outages.

    `up` is set while connected. `publish` and `subscribe` wait for it; a broken link during
    a call triggers one reconnect (with backoff) and the call is retried.
    """

    def __init__(self, client_id, host, port=1883, **kw):
        self.wifi = kw.pop("wifi", None)  # object with async ensure(); None on the unix port
        self.backoff_ms = kw.pop("backoff_ms", (500, 30000))
        self.on_connect = kw.pop("on_connect", None)  # async callback(client): birth message etc.
        self.log = kw.pop("log", None)
        super().__init__(client_id, host, port, **kw)
        self.up = asyncio.Event()
        self.subs = []  # (topic, qos): re-subscribed after each reconnect
        self.connects = 0
        self.outages = 0
        self._broken = asyncio.Event()
        self._tasks = []
        self._running = False

    def _log(self, msg):
        if self.log:
            self.log(msg)

    async def start(self):
        self._running = True
        self._tasks.append(asyncio.create_task(self._keep_connected()))

    async def _keep_connected(self):
        # the one long-lived task that rebuilds the link: Wi-Fi first, then the broker
        pause = self.backoff_ms[0]
        while self._running:
            conn = []
            self._broken = asyncio.Event()
            try:
                if self.wifi is not None:
                    await self.wifi.ensure()
                await self.open(clean=True)
                conn = [asyncio.create_task(self._reader()), asyncio.create_task(self._keepalive())]
                for topic, qos in self.subs:
                    await self._sub_now(topic, qos)
            except OSError as e:
                for t in conn:
                    t.cancel()
                self.close()
                self._log("mqtt: connect failed: %r; retry in %d ms" % (e, pause))
                await asyncio.sleep_ms(pause)
                pause = min(pause * 2, self.backoff_ms[1])
                continue
            pause = self.backoff_ms[0]
            self.connects += 1
            self.up.set()
            self._log("mqtt: connected (%d)" % self.connects)
            if self.on_connect:
                asyncio.create_task(self._birth())
            await self._broken.wait()
            self.up.clear()
            self.outages += 1
            for t in conn:
                t.cancel()
            self.close()
            self._log("mqtt: link down")

    async def _birth(self):
        try:
            await self.on_connect(self)
        except OSError:
            self.broken()

    def broken(self):
        """Mark the link broken (idempotent); the reconnect task takes over."""
        self.up.clear()
        self._broken.set()
        self.close()

    async def _reader(self):
        try:
            await self.read_loop()
        except (OSError, EOFError, IndexError, ValueError) as e:  # EOFError: asyncio readexactly on close
            self._log("mqtt: read: %r" % e)
        self.broken()

    async def _keepalive(self):
        # ping at a quarter of keepalive; dead after four silent quarters (mqtt_as' rule)
        quarter = self.keepalive_s * 250
        try:
            while True:
                await asyncio.sleep_ms(quarter)
                if self.silent_ms() > 4 * quarter:
                    self._log("mqtt: broker silent")
                    break
                await self.ping()
        except OSError:
            pass
        self.broken()

    async def _sub_now(self, topic, qos):
        await MQTTProto.subscribe(self, topic, qos)

    async def subscribe(self, topic, qos=1):
        self.subs.append((topic, qos))
        if self.up.is_set():
            try:
                await self._sub_now(topic, qos)
            except OSError:
                self.broken()  # re-subscribed on reconnect

    async def publish(self, topic, msg, retain=False, qos=1):
        """Publish, waiting through outages; returns once the broker has acknowledged it."""
        while True:
            await self.up.wait()
            try:
                await MQTTProto.publish(self, topic, msg, retain, qos)
                return
            except OSError as e:
                self._log("mqtt: publish: %r" % e)
                self.broken()
                await asyncio.sleep_ms(0)

    async def stop(self, clean=True):
        self._running = False
        for t in self._tasks:
            t.cancel()
        self.up.clear()
        if clean:
            await self.disconnect()
        else:
            self.close()
