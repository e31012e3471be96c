"""One asset of the plant as an asyncua OPC UA server.

Every tag of the asset is a ``Double`` variable in the tag's park unit, node id ``ns=2;s=<tag>``
(or the id a devices file gives it); setpoints are writable. A write outside the tag's park
bounds is refused with ``BadOutOfRange`` and changes nothing, as a PLC's range check would.
Faults: ``exception`` marks every value ``BadDeviceFailure`` (the gateway publishes
``comm_error``); ``silent`` and ``restart`` stop the server (sessions drop); ``restart`` brings it
back after ``restart_s`` with setpoints at their safe defaults.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from asyncua import Server, ua

logging.getLogger("asyncua").setLevel(logging.ERROR)


class OpcUaDevice:
    """An OPC UA server for one asset's tags.

    :param asset: the asset
    :param nodes: tag -> node id string
    :param park_tags: the park's tags (units, bounds, safe defaults)
    :param port: TCP port on 127.0.0.1
    :param application_uri: the server's application URI, its identity (:mod:`sim_env.plant.identity`)
    """

    def __init__(self, asset: str, nodes: dict[str, str], park_tags: dict, port: int,
                 application_uri: str | None = None):
        self.asset = asset
        self.nodes = nodes
        self.park_tags = park_tags
        self.port = port
        self.url = f"opc.tcp://127.0.0.1:{port}/aisym/plant/"
        self.application_uri = application_uri
        self.server: Server | None = None
        self.vars: dict[str, object] = {}
        self.values: dict[str, float] = {}
        self.mode = "ok"
        self.refused = 0
        self.defaults()

    def defaults(self) -> None:
        """Setpoints at their safe default; measurements at 0 until the next step."""
        for tag in self.nodes:
            control = self.park_tags[tag].control
            self.values[tag] = control.safe_default if control else 0.0

    async def start(self) -> None:
        server = Server()
        await server.init()
        server.set_endpoint(self.url)
        server.set_server_name(f"AISYM plant: {self.asset}")
        if self.application_uri:
            await server.set_application_uri(self.application_uri)
        idx = await server.register_namespace("urn:aisym:plant")
        objects = server.nodes.objects
        folder = await objects.add_object(ua.NodeId(self.asset, idx), self.asset)
        self.vars = {}
        for tag, node_id in self.nodes.items():
            nid = ua.NodeId.from_string(node_id)
            var = await folder.add_variable(nid, tag.split(".", 1)[1], ua.Variant(float(self.values[tag]),
                                                                                   ua.VariantType.Double))
            if self.park_tags[tag].control is not None:
                await var.set_writable()
            self.vars[tag] = var
        service = server.iserver.attribute_service
        plain_write = service.write

        async def checked_write(params, user=None, **kw):
            # the range check of the device: refused items get BadOutOfRange, the rest go through
            out = []
            for wv in params.NodesToWrite:
                bad = self._refuse(wv)
                if bad is not None:
                    self.refused += 1
                    out.append(bad)
                    continue
                one = ua.WriteParameters()
                one.NodesToWrite = [wv]
                res = await (plain_write(one, user=user, **kw) if user is not None else plain_write(one, **kw))
                out.extend(res)
                if res and res[0].is_good():
                    tag = self._tag_of(wv.NodeId)
                    if tag is not None:
                        self.values[tag] = float(wv.Value.Value.Value)
            return out

        service.write = checked_write
        await server.start()
        self.server = server
        await self.publish(self.values)

    def _tag_of(self, nid) -> str | None:
        for tag, var in self.vars.items():
            if var.nodeid == nid:
                return tag
        return None

    def _refuse(self, wv) -> ua.StatusCode | None:
        tag = self._tag_of(wv.NodeId)
        if tag is None or wv.AttributeId != ua.AttributeIds.Value:
            return None
        spec = self.park_tags[tag]
        if spec.control is None:
            return ua.StatusCode(ua.StatusCodes.BadNotWritable)
        try:
            v = float(wv.Value.Value.Value)
        except (TypeError, ValueError, AttributeError):
            return ua.StatusCode(ua.StatusCodes.BadTypeMismatch)
        if not (math.isfinite(v) and spec.min <= v <= spec.max):
            return ua.StatusCode(ua.StatusCodes.BadOutOfRange)
        return None

    async def stop(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            await server.stop()

    async def publish(self, values: dict[str, float]) -> None:
        """Write the step's measured values (and the held setpoints) into the variables."""
        if self.server is None:
            return
        bad = self.mode == "exception"
        now = datetime.now(UTC)
        for tag, var in self.vars.items():
            if self.park_tags[tag].control is None and tag in values:
                self.values[tag] = float(values[tag])
            dv = ua.DataValue(ua.Variant(float(self.values[tag]), ua.VariantType.Double),
                              StatusCode=ua.StatusCode(ua.StatusCodes.BadDeviceFailure if bad else ua.StatusCodes.Good),
                              SourceTimestamp=now, ServerTimestamp=now)
            await self.server.write_attribute_value(var.nodeid, dv)
