"""Park description v2: carriers, generic components, templates, exchanges, resolved as a graph."""

from .build import Bus, Link, Node, ParkGraph, Val
from .carriers import FLOW_UNITS, Carrier, Resource, serves
from .loader import load_graph, parse_graph
from .migrate import migrate, migrate_text
from .templates import TEMPLATES

__all__ = [
    "FLOW_UNITS",
    "TEMPLATES",
    "Bus",
    "Carrier",
    "Link",
    "Node",
    "ParkGraph",
    "Resource",
    "Val",
    "load_graph",
    "migrate",
    "migrate_text",
    "parse_graph",
    "serves",
]
