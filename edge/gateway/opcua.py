"""OPC UA input: one session per endpoint, values through a subscription, rebuilt after a restart.

Why subscriptions and not polling: the server samples at its own rate and sends changes only,
with the source timestamp, so a reading carries the instant the PLC saw the value. Why our own
reconnect loop rather than asyncua's ``auto_reconnect``: after a server restart the server has
forgotten the subscription; we rebuild session, subscription and monitored items from the
config every time, and emit ``comm_error`` for every tag while the endpoint is gone.

Identity: with ``identity.application_uri`` in the config, the server's ApplicationUri
(``ServerArray[0]``, OPC UA Part 5 6.3.1) is read on every new session before subscribing; a
server that says otherwise is ``refused``: no readings, no writes, one log line, health
``opc_<id>_identity_refused``, and it is asked again at the backoff's pace.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Callable
from typing import Any

from asyncua import Client, ua

from .config import OpcUaEndpoint
from .modbus import ReadingTuple, Sink

log = logging.getLogger("aisym.gateway.opcua")


class WrongIdentity(Exception):
    """The server is not the one configured (the message says what it said)."""


class _Handler:
    def __init__(
        self,
        endpoint: OpcUaEndpoint,
        units: dict[str, str],
        out: list[ReadingTuple],
        bounds: dict[str, tuple[float, float]],
        now_ms: Callable[[], int],
    ):
        self.now_ms = now_ms
        self.tags = {n.node_id: n.tag for n in endpoint.nodes}
        self.units = units
        self.out = out
        self.bounds = bounds

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        tag = self.tags.get(node.nodeid.to_string())
        if tag is None:
            return
        dv = data.monitored_item.Value
        src = dv.SourceTimestamp or dv.ServerTimestamp
        ts = int(src.timestamp() * 1000) if src is not None else self.now_ms()
        status = dv.StatusCode
        try:
            value = float(val)
        except (TypeError, ValueError):
            value = None
        if (status is not None and status.is_bad()) or value is None or value != value:
            self.out.append((tag, None, self.units[tag], ts, "comm_error"))
        elif status is not None and status.is_uncertain():
            self.out.append((tag, value, self.units[tag], ts, "stale"))
        else:
            lo, hi = self.bounds.get(tag, (-math.inf, math.inf))
            self.out.append((tag, value, self.units[tag], ts, "good" if lo <= value <= hi else "out_of_range"))


class OpcUaInput:
    """Keeps one endpoint subscribed and forwards its values to ``sink``.

    :param endpoint: the config entry
    :param units: park tag -> unit
    :param sink: receives batches of readings (the spool)
    :param bounds: park tag -> (min, max); a value outside is ``out_of_range``
    :param now_ms: the gateway's clock for ``comm_error`` readings (values carry the server's source time)
    """

    def __init__(
        self,
        endpoint: OpcUaEndpoint,
        units: dict[str, str],
        sink: Sink,
        bounds: dict[str, tuple[float, float]] | None = None,
        now_ms: Callable[[], int] | None = None,
    ):
        self.now_ms = now_ms or (lambda: int(time.time() * 1000))
        self.endpoint = endpoint
        self.units = units
        self.bounds = dict(bounds or {})
        self.sink = sink
        self.client: Client | None = None
        self.state = "connecting"
        self.connects = 0
        self.errors = 0
        self.last_error = ""
        self._buf: list[ReadingTuple] = []
        self._refusal = ""

    async def _emit(self) -> None:
        if self._buf:
            batch, self._buf[:] = list(self._buf), []
            res = self.sink(batch)
            if res is not None:
                await res

    async def _session(self) -> None:
        ep = self.endpoint
        client = Client(ep.url, timeout=ep.timeout_s, watchdog_intervall=max(1.0, ep.timeout_s / 2))
        if ep.username:
            client.set_user(ep.username)
            pw = ep.password()
            if pw is not None:
                client.set_password(pw)
        self.client = client
        async with client:
            await self._check_identity(client)
            handler = _Handler(ep, self.units, self._buf, self.bounds, self.now_ms)
            sub = await client.create_subscription(ep.publishing_ms, handler)
            await sub.subscribe_data_change([client.get_node(n.node_id) for n in ep.nodes])
            self.state = "online"
            self.connects += 1
            while True:
                await self._emit()
                await client.check_connection()  # raises once the watchdog sees the link gone
                await asyncio.sleep(min(0.2, ep.publishing_ms / 1000))

    async def _check_identity(self, client: Client) -> None:
        want = self.endpoint.identity
        if want is None:
            return
        servers = await client.get_node(ua.NodeId(ua.ObjectIds.Server_ServerArray)).read_value()
        said = servers[0] if servers else None
        if said != want.application_uri:
            raise WrongIdentity(f"application_uri is {said!r}, not {want.application_uri!r}")
        if self.state == "refused":
            log.warning("OPC UA %s: identity %s confirmed", self.endpoint.id, said)
        self._refusal = ""

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except WrongIdentity as e:
                if str(e) != self._refusal:
                    log.error("OPC UA %s refused, it is not the configured server: %s", self.endpoint.id, e)
                self._refusal = self.last_error = str(e)
                self.errors += 1
                self.state = "refused"  # nothing of it is stored: no comm_error readings either
                failures += 1
                await asyncio.sleep(min(2 ** (failures - 1), self.endpoint.max_backoff_s) * random.uniform(0.5, 1.0))
                continue
            except Exception as e:
                self.errors += 1
                self.last_error = f"{type(e).__name__}: {e}"
                log.warning("OPC UA %s: %s", self.endpoint.id, self.last_error)
            await self._emit()
            if self.state == "online":
                failures = 0
            self.state = "backoff"
            ts = self.now_ms()
            res = self.sink([(n.tag, None, self.units[n.tag], ts, "comm_error") for n in self.endpoint.nodes])
            if res is not None:
                await res
            failures += 1
            await asyncio.sleep(min(2 ** (failures - 1), self.endpoint.max_backoff_s) * random.uniform(0.5, 1.0))

    async def write(self, node_id: str, value: float) -> float:
        """Write a setpoint to ``node_id`` (keeping the node's variant type) and read it back."""
        if self.client is None or self.state != "online":
            raise ConnectionError(f"OPC UA endpoint {self.endpoint.id} is not connected")
        node = self.client.get_node(node_id)
        vtype = await node.read_data_type_as_variant_type()
        cast: Any = round(value) if vtype not in (ua.VariantType.Float, ua.VariantType.Double) else value
        await node.write_value(ua.DataValue(ua.Variant(cast, vtype)))
        return float(await node.read_value())
