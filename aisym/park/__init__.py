"""The park description: one YAML file that names every asset, tag and exchange.

The shipped parks are v2 files (:mod:`aisym.park.graph`); the v1 model here (:class:`Park`,
:func:`load_park`) reads a user's v1 file, which every reader converts on load.
"""

from .assets import CONSUMES, PRODUCES, Asset
from .loader import DEFAULT_PARK, ParkError, Problem, load_park, parse_park
from .model import Company, Exchange, Park
from .tags import Control, Tag
from .units import QUANTITY_UNITS, RESOURCE_UNITS, Resource
from .view import ParkView, load_view, park_view

__all__ = [
    "CONSUMES",
    "DEFAULT_PARK",
    "PRODUCES",
    "QUANTITY_UNITS",
    "RESOURCE_UNITS",
    "Asset",
    "Company",
    "Control",
    "Exchange",
    "Park",
    "ParkError",
    "ParkView",
    "Problem",
    "Resource",
    "Tag",
    "load_park",
    "load_view",
    "park_view",
    "parse_park",
]
