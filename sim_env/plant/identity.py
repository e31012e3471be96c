"""Who each device of the plant says it is, so a gateway can tell one device from another.

- **Modbus**: Read Device Identification (function 0x2B / MEI 0x0E), answered per device id:
  VendorName (object 0x00) = the profile's manufacturer (``AISYM plant (simulated)`` for a generated one),
  ProductCode (0x01) = the profile id, MajorMinorRevision (0x02) ``1.0``, ProductName (0x04) the
  profile's model, and the serial in the first private object, **0x80** (read code 3 or 4). The
  serial is ``<park>-<device id>``: distinct per device, stable across runs.
- **OPC UA**: the server's application URI, ``urn:aisym:plant:<park>:<asset>``.

The gateway config the plant writes carries the same under each device (``identity: {vendor,
product_code, serial}`` for Modbus, ``identity: {application_uri}`` for OPC UA) when the gateway's
config accepts the field (:func:`gateway_takes_identity`).

Why not pymodbus's ``identity=ModbusDeviceIdentification(...)`` server argument: pymodbus keeps it
in ``ModbusControlBlock``, a process-wide singleton, so every server of the plant (one process)
would answer with the identity of the last one started, which is the very confusion this is
here to catch; and one RTU server carries several device ids. Each server instead gets its own
decoder entry for 0x2B/0x0E, which answers from its devices' identities by device id.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pymodbus.constants import DeviceInformation, ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.pdu import ExceptionResponse
from pymodbus.pdu.decoders import DecodePDU
from pymodbus.pdu.device import DeviceInformationFactory, ModbusDeviceIdentification
from pymodbus.pdu.mei_message import ReadDeviceInformationRequest, ReadDeviceInformationResponse

SERIAL_OBJECT = 0x80  # the first private (extended) object: Modbus defines no serial number object


def modbus_identity(park_id: str, device) -> dict[str, str]:
    """``{vendor, product_code, serial}`` of a plant device (a :class:`~sim_env.plant.devices.Device`)."""
    return {"vendor": device.profile.manufacturer, "product_code": device.profile.id, "serial": f"{park_id}-{device.id}"}


def opcua_identity(park_id: str, asset: str) -> dict[str, str]:
    """``{application_uri}`` of the plant's OPC UA server for ``asset``."""
    return {"application_uri": f"urn:aisym:plant:{park_id}:{asset}"}


def identification(identity: dict[str, str], model: str) -> ModbusDeviceIdentification:
    """The Modbus objects of an identity (see the module docstring)."""
    return ModbusDeviceIdentification(info={0x00: identity["vendor"], 0x01: identity["product_code"], 0x02: "1.0",
                                            0x04: model, SERIAL_OBJECT: identity["serial"]})


def from_objects(info: dict[int, Any]) -> dict[str, str]:
    """``{vendor, product_code, serial}`` from a Read Device Identification answer's objects."""
    def text(oid: int) -> str:
        v = info.get(oid, b"")
        return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)

    return {"vendor": text(0x00), "product_code": text(0x01), "serial": text(SERIAL_OBJECT)}


class _DeviceInformation(ReadDeviceInformationRequest):
    """0x2B/0x0E answered from ``devices`` (device id -> (ModbusDevice, identification)), with the
    device's fault mode applied as to any other request."""

    devices: ClassVar[dict[int, tuple[Any, ModbusDeviceIdentification]]] = {}

    async def datastore_update(self, context, device_id: int):
        entry = self.devices.get(device_id)
        if entry is None:
            raise NoSuchIdException(device_id)
        device, ident = entry
        device.requests += 1
        if device.mode in ("silent", "restart"):
            raise NoSuchIdException(device_id)  # dropped unanswered, as every other request
        if device.mode == "exception":
            return ExceptionResponse(self.function_code, ExcCodes.DEVICE_FAILURE)
        if not 0x00 <= self.read_code <= 0x04 or not 0x00 <= self.object_id <= 0xFF:
            return ExceptionResponse(self.function_code, ExcCodes.ILLEGAL_VALUE)
        info = DeviceInformationFactory.get(_Control(ident), self.read_code, self.object_id)
        if self.read_code == DeviceInformation.SPECIFIC and not info.get(self.object_id):
            return ExceptionResponse(self.function_code, ExcCodes.ILLEGAL_ADDRESS)
        return ReadDeviceInformationResponse(read_code=self.read_code, information=info, dev_id=device_id,
                                             transaction_id=self.transaction_id)


class _Control:
    """What :class:`DeviceInformationFactory` reads: an object with ``Identity``."""

    def __init__(self, identity: ModbusDeviceIdentification):
        self.Identity = identity


def serve_identities(server, devices: dict[int, tuple[Any, ModbusDeviceIdentification]]) -> None:
    """Make ``server`` (a pymodbus server) answer Read Device Identification from ``devices``.

    The entry goes into this server's own decoder table (an instance attribute shadowing the
    class-wide one), so no other server or client in the process changes.
    """
    handler = type("PlantDeviceInformation", (_DeviceInformation,), {"devices": dict(devices)})
    sub = {fc: dict(table) for fc, table in DecodePDU.pdu_sub_table.items()}
    sub.setdefault(handler.function_code, {})[handler.sub_function_code] = (handler, ReadDeviceInformationResponse)
    server.decoder.pdu_sub_table = sub


def gateway_takes_identity() -> bool:
    """Whether the gateway's config accepts ``identity`` under devices and OPC UA endpoints (its
    validation refuses unknown keys, so the plant writes the field only then)."""
    from edge.gateway import config

    return all("identity" in m.model_fields for m in (config.Device, config.OpcUaEndpoint))
