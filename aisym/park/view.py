"""What the edge and the cloud read of a park, from any park file (v1 or v2).

The gateway, the node build, the ingestor, the controller and the line-protocol contract need a
park's id, its tags (units, ranges, setpoint bounds) and each asset's company, nothing of its
physics. They all read it through :func:`load_view`, so there is one way in: a v2 file is
resolved, a user's v1 file is validated as v1 (its errors name its own lines) and converted on
load, as ``aisym park migrate`` would (:func:`aisym.park.graph.load_graph`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .tags import Tag


@dataclass(frozen=True)
class ParkView:
    """A park as the edge and the cloud read it.

    :param park: the file's ``park:`` section (``id``, ``name``, ``currency``...)
    :param tags: ``<asset>.<tag>`` -> tag
    :param company_of: asset -> company
    """

    park: Any
    tags: dict[str, Tag]
    company_of: dict[str, str]

    @property
    def id(self) -> str:
        return self.park.id

    @property
    def assets(self) -> list[str]:
        return sorted(self.company_of)


def park_view(park: Any) -> ParkView:
    """``park`` (a resolved ``ParkGraph``, a v1 :class:`~aisym.park.Park` or a view) as a view."""
    if isinstance(park, ParkView):
        return park
    from .model import Park

    if isinstance(park, Park):  # converted as on load, so a v1 park's view is its v2 form's
        from .graph import migrate_text, parse_graph

        park = parse_graph(migrate_text(park), f"park {park.park.id} (migrated to v2)")
    return ParkView(park.doc.park, dict(park.tags), dict(park.company_of))


def load_view(path: str | Path | None = None) -> ParkView:
    """Load a park file, v1 or v2 (the shipped Kråkøya-like park when ``path`` is None).

    Raises :class:`aisym.park.ParkError` naming the file, line and field.
    """
    from .graph import load_graph

    return park_view(load_graph(path))
