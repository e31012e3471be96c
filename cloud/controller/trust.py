"""What the controller believes, and on whose word (issue 18).

The controller acts on three kinds of message; it takes each only from the account the stack can
attribute it to. The broker cannot stamp the sender into a message (Mosquitto 2.0 sets no user
property), so the attribution is the topic: the ACL (:func:`aisym.services.acl.park_acl`) lets
each node account publish only under ``aisym/<park>/<node>/``, and binds client ids to accounts.
A ``node`` field inside a body is the sender's claim and is only checked against the topic.

- **status**: a gateway's online state comes from its own status topic; a body naming another
  node is refused (code ``node``).
- **telemetry**: refused whole, like the ingestor does (so the controller's view is what
  InfluxDB stores), when the body names another node (``node``), the park does not know a tag
  or its unit (``park``), a time is more than :data:`~aisym.contract.MAX_AHEAD_MS` ahead
  (``future_ts``, the ingestor's tolerance), a reading's tag is not the sending node's
  (``ownership``), or a ``good`` value lies outside its tag's min/max (``out_of_range``: the
  ingestor's :func:`~aisym.contract.check_ranges`, the gateway's own rule for that quality).
  The first that applies, in this order (the ingestor's), names the refusal.
- **cmd/ack**: counted only when it comes from the node the command went to (``node``).

Who owns a tag: the ingestor's :class:`~cloud.ingest.ownership.Ownership` when given (the same
map and file, ``--ownership``); without one, the controller takes its store levels only from the
gateways it commands (other tags it does not use).

Every refusal is counted as ``<kind>_<code>`` (:data:`REFUSALS`: a fixed set, so the health
series cannot grow new fields).
"""

from __future__ import annotations

from collections.abc import Iterable

from aisym.contract import (
    MAX_AHEAD_MS,
    Ack,
    PayloadError,
    Status,
    Telemetry,
    check_against_park,
    check_ranges,
    check_times,
    decode_status,
    decode_telemetry,
)
from cloud.ingest.ownership import Ownership

#: every refusal counter: ``<kind>_<code>``
REFUSALS = ("status_node", "status_invalid", "telemetry_node", "telemetry_park", "telemetry_ownership",
            "telemetry_future_ts", "telemetry_out_of_range", "telemetry_invalid", "ack_node", "ack_invalid")
_KINDS = {"status": "status", "telemetry": "telemetry", "cmd/ack": "ack"}


def refusal(kind: str, e: PayloadError) -> str:
    """The counter of a refused message: the decoder's own codes (JSON, encoding, schema) are ``invalid``."""
    key = f"{_KINDS[kind]}_{e.code}"
    return key if key in REFUSALS else f"{_KINDS[kind]}_invalid"


def _same_node(body: str, topic: str) -> None:
    if body != topic:
        raise PayloadError("node", f"body names node {body!r} on node {topic!r}'s topic: the topic is the sender", "node")


class Trust:
    """The checks of the module docstring for one park.

    :param park: the park graph (tags with units and ranges)
    :param levels: the tags the controller reads store levels from
    :param commanded: the gateway nodes the controller commands
    :param ownership: the ingestor's node -> tags map; None: levels only from ``commanded``
    :param max_ahead_ms: how far ahead of its arrival a time may be
    """

    def __init__(self, park, levels: Iterable[str], commanded: Iterable[str], ownership: Ownership | None = None,
                 max_ahead_ms: int = MAX_AHEAD_MS):
        self.park = park
        self.levels = frozenset(levels)
        self.commanded = frozenset(commanded)
        self.ownership = ownership
        self.max_ahead_ms = max_ahead_ms

    def owner_problem(self, node: str, tag: str) -> str | None:
        """Why ``node`` may not report ``tag`` (None: it may)."""
        if self.ownership is not None:
            return self.ownership.problem(node, tag)
        if tag in self.levels and node not in self.commanded:
            return (f"tag {tag!r} is a store level, taken only from the gateways the controller commands "
                    f"({', '.join(sorted(self.commanded))}), not from {node!r}")
        return None

    def bounds(self, tag: str) -> tuple[float, float]:
        spec = self.park.tags[tag]
        return spec.min, spec.max

    def telemetry(self, node: str, payload: bytes, received_ms: int) -> Telemetry:
        """The message if every reading of it is ``node``'s to give. Raises :class:`PayloadError` (with its code)."""
        msg = decode_telemetry(payload)
        _same_node(msg.node, node)
        for f, reason in check_against_park(msg, self.park):
            raise PayloadError(f, reason, "park")
        check_times(msg, received_ms, self.max_ahead_ms)  # the ingestor's order: a refusal has the same code
        for i, r in enumerate(msg.readings):
            why = self.owner_problem(node, r.tag)
            if why:
                raise PayloadError(f"readings[{i}].tag", why, "ownership")
        for f, reason in check_ranges(msg, self.park):
            raise PayloadError(f, reason, "out_of_range")
        return msg

    def status(self, node: str, payload: bytes) -> Status | None:
        """The node's own status; None when its retained status was cleared (an empty payload)."""
        if not payload:
            return None
        st = decode_status(payload)
        _same_node(st.node, node)
        return st

    def ack(self, node: str, ack: Ack, sent_to: str | None) -> None:
        """Refuse an ack ``node`` may not give; ``sent_to`` is the node its command went to (None: not pending)."""
        _same_node(ack.node, node)
        if sent_to is not None and sent_to != node:
            raise PayloadError("id", f"command {ack.id!r} went to {sent_to!r}, not to {node!r}", "node")


def gateway_ownership(paths: Iterable, park) -> Ownership:
    """The ownership map of gateway configs alone: each config's node owns its devices' and OPC UA
    tags (:func:`cloud.ingest.ownership.gateway_tags`, as the ingestor reads ``gateway_configs``).

    :raises aisym.yamlfile.DocumentError: a config that does not validate, with its file and line
    :raises cloud.errors.ConfigError: a tag claimed by two gateways
    """
    from cloud.ingest.ownership import gateway_tags

    nodes: dict[str, set[str]] = {}
    paths = list(paths)
    for p in paths:
        node, tags = gateway_tags(p, park)
        nodes.setdefault(node, set()).update(tags)
    return Ownership(nodes, "gateway configs " + ", ".join(str(p) for p in paths))
