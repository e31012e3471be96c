"""A park and its companies created from a v2 park description, read by the CLI's own loader.

The file goes through :func:`aisym.park.graph.load_graph`, the loader behind ``aisym park
validate``, ``twin`` and ``match``: a file the CLI refuses is refused here with the same
``file:line: field: why`` message, and nothing is half-created (one transaction).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from django.db import transaction

from aisym.park.graph import load_graph
from aisym.park.graph.carriers import FLOW_UNITS, Carrier
from cloud.workbench.accounts.audit import acting_as
from cloud.workbench.companies.models import Company, Listing
from cloud.workbench.parks.models import Park
from cloud.workbench.tenancy import system_access

_NUMBER_UNIT = re.compile(r"^\s*([-+]?\d[\d_,]*(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


class ParkExists(Exception):
    """The park is in the workbench already (its id is taken)."""


def _amount(value, default_unit: str) -> tuple[float | None, str]:
    """``"170000 t/yr"`` -> (170000.0, "t/yr"); a bare number is in the carrier's flow unit."""
    if value is None:
        return None, ""
    if isinstance(value, int | float):
        return float(value), default_unit
    m = _NUMBER_UNIT.match(str(value))
    if not m:
        return None, ""
    return float(m.group(1).replace("_", "").replace(",", "")), m.group(2) or default_unit


def _listing(company: Company, flow, direction: str, carriers: dict[str, Carrier]) -> Listing:
    carrier = flow.carrier if isinstance(flow.carrier, Carrier) else carriers.get(flow.carrier) or Carrier(
        resource=flow.carrier)
    quantity, unit = _amount(flow.quantity, FLOW_UNITS[carrier.resource])
    cost, _ = _amount(flow.cost, "")
    quality = {k: v for k, v in carrier.stated().items() if k not in ("ewc", "material")}
    frequency = {"seasonal": "seasonal", "batch": "one_off"}.get(flow.continuity, "continuous")
    return Listing(
        company=company, slug=flow.id, direction=direction,
        name=(flow.description or carrier.material or flow.id.replace("_", " "))[:200],
        resource=carrier.resource, ewc=carrier.ewc or "", material=carrier.material or "", quality=quality,
        quantity=quantity, unit=unit, frequency=frequency, route=flow.route, cost=cost,
        description=flow.description,
        document=flow.model_dump(mode="json", exclude_unset=True, by_alias=True),
    )


def import_park(path: str | Path, actor: str = "cli") -> Park:
    """Create the park of ``path`` with its companies and their listed outputs and inputs.

    :raises aisym.park.ParkError: the file is not a valid park description
    :raises ParkExists: a park with this id is in the workbench already
    """
    graph = load_graph(path)
    doc = graph.doc
    info = doc.park
    carriers = {c.id: Carrier(**c.model_dump(exclude={"id"})) for c in doc.carriers}
    rest = doc.model_dump(mode="json", exclude_unset=True, by_alias=True, exclude={"companies"})
    with transaction.atomic(), acting_as(None, actor), system_access():
        if Park.objects.filter(slug=info.id).exists():
            raise ParkExists(f"{path}: park.id: a park '{info.id}' is in the workbench already")
        park = Park.objects.create(
            slug=info.id, name=info.name, location=info.location, country=info.country,
            timezone=info.timezone, currency=info.currency, description=info.description, document=rest,
            join_code=secrets.token_urlsafe(9))
        for c in doc.companies:
            company = Company.objects.create(
                park=park, slug=c.id, name=c.name, nace=c.nace, country=info.country, location=c.location,
                lat=c.lat, lon=c.lon,
                document=c.model_dump(mode="json", exclude_unset=True, by_alias=True, exclude={"outputs", "inputs"}))
            for side, direction in (("outputs", Listing.OUTPUT), ("inputs", Listing.INPUT)):
                for flow in getattr(c, side):
                    _listing(company, flow, direction, carriers).save()
    return park
