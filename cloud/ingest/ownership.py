"""Tag ownership: which node may report which of the park's tags (``aisym ingest --ownership FILE``).

The park description says which tags exist, not who measures them; the gateway and node configs
do. An ownership file gathers that for the ingestor::

    park: kraakoya
    nodes:                       # node id -> tags it reports ("<asset>.*": every tag of the asset)
      gw-plantroom: [heat_store.temp_top, heat_store.temp_bottom, "chp.*"]
    gateway_configs: [gw-plantroom.yaml]    # a gateway config's node owns its devices' and OPC UA tags
    node_configs: [sensor-ras.yaml]         # a sensor node config's node owns its channels' tags

Paths are relative to the ownership file. A tag claimed by two nodes is an error naming both. With
ownership configured, the ingestor dead-letters (code ``ownership``) a reading for a tag that
another node owns or no node owns, and anything from a node the map does not name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from aisym.park import ParkView
from aisym.yamlfile import DocumentError, Loc, parse_yaml_model

from ..errors import ConfigError

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
TagPattern = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}\.([a-z][a-z0-9_]{0,39}|\*)$")]


class OwnershipFile(BaseModel):
    """The ownership YAML (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    park: Id | None = None
    nodes: dict[Id, list[TagPattern]] = {}
    gateway_configs: list[Path] = []
    node_configs: list[Path] = []


class Ownership:
    """Node -> the tags it may report.

    :param nodes: node id -> its tags (exact park tags)
    :param source: where the map came from, for reasons
    """

    def __init__(self, nodes: Mapping[str, Iterable[str]], source: str = "ownership"):
        self.source = source
        self.tags_of: dict[str, frozenset[str]] = {n: frozenset(t) for n, t in nodes.items()}
        self.owner_of: dict[str, str] = {}
        for node, tags in self.tags_of.items():
            for tag in tags:
                other = self.owner_of.setdefault(tag, node)
                if other != node:
                    raise ConfigError(f"{source}: tag {tag!r} is claimed by nodes {other!r} and {node!r}")

    def __contains__(self, node: str) -> bool:
        return node in self.tags_of

    def problem(self, node: str, tag: str) -> str | None:
        """Why ``node`` may not report ``tag`` (None: it may)."""
        if tag in self.tags_of.get(node, ()):
            return None
        owner = self.owner_of.get(tag)
        if owner is None:
            return f"tag {tag!r} is assigned to no node in {self.source}"
        return f"tag {tag!r} belongs to node {owner!r}, not {node!r} ({self.source})"


def _expand(patterns: Iterable[str], park: ParkView) -> tuple[set[str], list[str]]:
    """Exact tags for ``patterns`` (``asset.*`` expanded), and the patterns the park does not know."""
    tags, unknown = set(), []
    for p in patterns:
        if p.endswith(".*"):
            found = {t for t in park.tags if t.startswith(p[:-1])}
            tags |= found
            if not found:
                unknown.append(p)
        elif p in park.tags:
            tags.add(p)
        else:
            unknown.append(p)
    return tags, unknown


def gateway_tags(path: Path, park: ParkView) -> tuple[str, set[str]]:
    """(node, tags) of a gateway config: its devices' mapped tags and its OPC UA nodes' tags."""
    from edge.gateway.config import load_config  # edge does not import cloud; cloud may read edge's configs

    cfg = load_config(path, park).config
    tags = {tm.tag for dev in cfg.devices for tm in dev.tag_maps().values()}
    tags |= {n.tag for ep in cfg.opcua for n in ep.nodes}
    return cfg.node, tags


def node_tags(path: Path, park: ParkView) -> tuple[str, set[str]]:
    """(node, tags) of a sensor node config: its channels' and RS-485 devices' tags."""
    from edge.node.build import load_node

    spec, _, _ = load_node(path, park)
    tags = {ch.tag for ch in spec.channels} | {t for dev in spec.rs485.devices for t in dev.tags.values()}
    return spec.node, tags


def load_ownership(path: Path, park: ParkView) -> Ownership:
    """Read and check an ownership file against the park. Raises :class:`~cloud.errors.ConfigError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the ownership file: {e.strerror}") from None

    def checks(doc: OwnershipFile) -> Iterable[tuple[Loc, str]]:
        if doc.park is not None and doc.park != park.park.id:
            yield ("park",), f"the park description is {park.park.id!r}, not {doc.park!r}"
        for node, patterns in doc.nodes.items():
            for p in _expand(patterns, park)[1]:
                yield ("nodes", node), f"no tag {p!r} in park {park.park.id}"

    try:
        doc = parse_yaml_model(text, str(path), OwnershipFile, checks, what="ownership file")
    except DocumentError as e:
        raise ConfigError(str(e)) from None
    nodes: dict[str, set[str]] = {n: _expand(p, park)[0] for n, p in doc.nodes.items()}
    for kind, paths, read in (("gateway", doc.gateway_configs, gateway_tags), ("node", doc.node_configs, node_tags)):
        for p in paths:
            full = p if p.is_absolute() else path.parent / p
            try:
                node, tags = read(full, park)
            except DocumentError as e:  # edge's ConfigError is a DocumentError: file, line and field
                raise ConfigError(f"{path}: {kind} config {p}: {e}") from None
            nodes.setdefault(node, set()).update(tags)
    return Ownership(nodes, str(path))
