"""Load any park file (v1 or v2) as a resolved :class:`~aisym.park.graph.build.ParkGraph`.

A v1 file is validated as v1 (its errors name its own lines), migrated, and then resolved
like a v2 file. Every problem of a v2 file is reported as ``file:line:col: field: why``.
"""

from __future__ import annotations

import re
from pathlib import Path

from ...yamlfile import Problem, parse_yaml_model
from ..loader import ParkError, parse_park
from .build import ParkGraph, build_graph
from .components import COMPONENT_TYPES
from .document import ParkV2
from .migrate import migrate_text
from .series import SERIES_KINDS
from .templates import TEMPLATES

SHIPPED = Path(__file__).resolve().parent.parent.parent / "parks"


_VERSION = re.compile(r"^schema_version:\s*(\d+)\s*(#.*)?$", re.MULTILINE)


def _version(text: str) -> int | None:
    """The top-level ``schema_version`` (a line of its own in every park file), without parsing it all."""
    m = _VERSION.search(text)
    return int(m.group(1)) if m else None


def parse_graph(text: str, source: str = "<string>") -> ParkGraph:
    """Parse park YAML (v1 or v2) and resolve it. Raises :class:`~aisym.park.ParkError`."""
    if _version(text) == 1:
        v1 = parse_park(text, source)
        try:
            migrated = migrate_text(v1, source)
        except (ValueError, KeyError, TypeError) as e:  # a v1 park the converter cannot express
            raise ParkError(source, [Problem((), f"cannot convert this v1 park to v2: {e}")]) from None
        return parse_graph(migrated, f"{source} (migrated to v2)")
    built: dict[str, ParkGraph] = {}

    def checks(doc: ParkV2):
        graph, problems = build_graph(doc, source)
        if graph is not None:
            built["graph"] = graph
        return problems

    tags = frozenset(COMPONENT_TYPES) | frozenset(TEMPLATES) | frozenset(SERIES_KINDS)
    parse_yaml_model(text, source, ParkV2, checks=checks, what="park description", tags=tags, error=ParkError)
    return built["graph"]


def load_graph(path: str | Path | None = None) -> ParkGraph:
    """Load a park file as a graph (the shipped Kråkøya-like park when ``path`` is None)."""
    path = Path(path) if path is not None else SHIPPED / "kraakoya.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ParkError(str(path), [], f"park description ({e})") from None
    return parse_graph(text, str(path))
