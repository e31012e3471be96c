"""Load a park YAML file into :class:`~aisym.park.model.Park` with errors a person can act on.

Every problem (YAML syntax, a wrong type, a typo'd field, a dangling reference) becomes one
:class:`ParkError` whose message names the file, each field path and its line, for example::

    kraakoya.yaml:57:9: companies[1].assets[0].rated_kw: Input should be greater than 0 (got -3)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from ..yamlfile import DocumentError, Loc, Problem, parse_yaml_model
from .assets import CONSUMES, PRODUCES
from .model import Park
from .quantity import convertible
from .units import RESOURCE_UNITS, Resource


class ParkError(DocumentError):
    """A park file failed to load. ``problems`` holds each finding with its line."""

    def __init__(self, source: str, problems: Sequence[Problem], what: str = "park description"):
        super().__init__(source, problems, what)


def _reference_problems(park: Park) -> Iterable[tuple[Loc, str]]:
    seen: dict[str, Loc] = {}
    for ci, company in enumerate(park.companies):
        for ai, asset in enumerate(company.assets):
            loc: Loc = ("companies", ci, "assets", ai, "id")
            if asset.id in seen:
                yield loc, f"asset id {asset.id!r} is already used at {Problem(seen[asset.id], '').path}"
            seen[asset.id] = loc
            names: set[str] = set()
            for ti, tag in enumerate(asset.tags):
                if tag.name in names:
                    yield ("companies", ci, "assets", ai, "tags", ti, "name"), f"tag {tag.name!r} appears twice in {asset.id}"
                names.add(tag.name)
    company_ids = [c.id for c in park.companies]
    for ci, cid in enumerate(company_ids):
        if company_ids.index(cid) != ci:
            yield ("companies", ci, "id"), f"company id {cid!r} is used twice"
    yield from _exchange_problems(park)


def _exchange_problems(park: Park) -> Iterable[tuple[Loc, str]]:
    exchange_ids: set[str] = set()
    for ei, ex in enumerate(park.exchanges):
        base: Loc = ("exchanges", ei)
        if ex.id in exchange_ids:
            yield (*base, "id"), f"exchange id {ex.id!r} is used twice"
        exchange_ids.add(ex.id)
        for field, ref, table, verb in (("from", ex.source, PRODUCES, "hand out"), ("to", ex.sink, CONSUMES, "take in")):
            asset = park.assets.get(ref)
            if asset is None:
                yield (*base, field), f"no asset {ref!r} in this park; assets: {', '.join(park.assets)}"
            elif ex.resource not in table[asset.kind]:
                yield (*base, "resource"), f"a {asset.kind} ({ref}) cannot {verb} {ex.resource.value}"
        if ex.source == ex.sink:
            yield (*base, "to"), "an exchange must join two different assets"
        if ex.unit != RESOURCE_UNITS[ex.resource]:
            yield (*base, "unit"), f"{ex.resource.value} capacity is stated in {RESOURCE_UNITS[ex.resource]}, not {ex.unit!r}"
        if ex.meter_tag is not None and ex.meter_tag not in park.tags:
            yield (*base, "meter_tag"), f"no tag {ex.meter_tag!r}; tags are written <asset>.<tag>"
        elif ex.meter_tag is not None:
            tag = park.tags[ex.meter_tag]
            unit = tag.unit if tag.unit != "1" else "dimensionless"
            dm_by_volume = ex.resource == Resource.sludge and tag.quantity == "volume_flow"  # feed flow of wet sludge
            if not dm_by_volume and not convertible(unit, RESOURCE_UNITS[ex.resource]):
                yield (*base, "meter_tag"), (f"{ex.meter_tag} measures {tag.quantity} in {tag.unit}: it cannot meter a "
                                             f"{ex.resource.value} flow (in {RESOURCE_UNITS[ex.resource]})")


def parse_park(text: str, source: str = "<string>") -> Park:
    """Parse and validate park YAML text. Raises :class:`ParkError`."""
    return parse_yaml_model(
        text, source, Park, checks=_reference_problems, what="park description", tags=frozenset(PRODUCES), error=ParkError
    )


DEFAULT_PARK = Path(__file__).resolve().parent.parent / "parks" / "kraakoya.yaml"  # the shipped park (v2)


def load_park(path: str | Path) -> Park:
    """Load a user's v1 park file as the v1 model (what ``aisym park migrate`` converts).

    Every other reader takes any park file through :func:`aisym.park.graph.load_graph` or
    :func:`aisym.park.load_view`, which convert a v1 file on load; the shipped park is v2.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParkError(str(path), [Problem((), "file not found")]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ParkError(str(path), [Problem((), f"cannot read: {e}")]) from None
    return parse_park(text, source=str(path))
