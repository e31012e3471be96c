"""Load a park YAML file into :class:`~aisym.park.model.Park` with errors a person can act on.

Every problem (YAML syntax, a wrong type, a typo'd field, a dangling reference) becomes one
:class:`ParkError` whose message names the file, each field path and its line, for example::

    kraakoya.yaml:57:9: companies[1].assets[0].rated_kw: Input should be greater than 0 (got -3)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .assets import CONSUMES, PRODUCES
from .model import Park
from .units import RESOURCE_UNITS

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str
    line: int | None = None
    column: int | None = None

    @property
    def path(self) -> str:
        out = ""
        for part in self.loc:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out or "<document>"


class ParkError(ValueError):
    """A park file failed to load. ``problems`` holds each finding with its line."""

    def __init__(self, source: str, problems: Sequence[Problem]):
        self.source = source
        self.problems = list(problems)
        lines = []
        for p in self.problems:
            where = source if p.line is None else f"{source}:{p.line}:{p.column or 1}"
            lines.append(f"{where}: {p.path}: {p.message}")
        head = f"invalid park description {source}" + (f" ({len(lines)} problems)" if len(lines) > 1 else "")
        super().__init__(head + "\n  " + "\n  ".join(lines))


class _DuplicateKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _node_at(root: yaml.Node | None, loc: Loc) -> yaml.Node | None:
    """The deepest YAML node along ``loc``: gives the line of a field, or of its parent if absent."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        else:
            child = None
        if child is None:
            break
        node = child
    return node


def _pydantic_problems(err: ValidationError) -> Iterable[tuple[Loc, str]]:
    for e in err.errors(include_url=False):
        # Discriminated unions add the tag ("fish_farm") to the path; drop it, it is not a field.
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p in PRODUCES))
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] not in ("missing", "extra_forbidden") and "input" in e and not isinstance(e["input"], dict | list):
            msg += f" (got {e['input']!r})"
        if e["type"] == "extra_forbidden":
            msg = "unknown field (check its spelling)"
        yield loc, msg


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


def parse_park(text: str, source: str = "<string>") -> Park:
    """Parse and validate park YAML text. Raises :class:`ParkError`."""
    try:
        root = yaml.compose(text, Loader=_DuplicateKeyLoader)
        data = yaml.load(text, Loader=_DuplicateKeyLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        msg = " ".join(str(x) for x in (e.context, e.problem) if x)
        raise ParkError(
            source, [Problem((), f"YAML syntax: {msg}", mark and mark.line + 1, mark and mark.column + 1)]
        ) from None
    except yaml.YAMLError as e:
        raise ParkError(source, [Problem((), f"YAML: {e}")]) from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ParkError(
            source, [Problem((), f"the document is {kind}; a park description is a mapping (schema_version, park, ...)")]
        )

    def located(items: Iterable[tuple[Loc, str]]) -> list[Problem]:
        out = []
        for loc, msg in items:
            node = _node_at(root, loc)
            mark = node.start_mark if node is not None else None
            out.append(Problem(loc, msg, mark and mark.line + 1, mark and mark.column + 1))
        return out

    try:
        park = Park.model_validate(data)
    except ValidationError as e:
        raise ParkError(source, located(_pydantic_problems(e))) from None
    problems = located(_reference_problems(park))
    if problems:
        raise ParkError(source, problems)
    return park


DEFAULT_PARK = Path(__file__).resolve().parent.parent / "parks" / "kraakoya.yaml"


def load_park(path: str | Path | None = None) -> Park:
    """Load a park description file (the shipped Kråkøya-like park when ``path`` is None)."""
    path = Path(path) if path is not None else DEFAULT_PARK
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParkError(str(path), [Problem((), "file not found")]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ParkError(str(path), [Problem((), f"cannot read: {e}")]) from None
    return parse_park(text, source=str(path))
