"""MQTT topic scheme: ``aisym/<park>/<node>/<kind>``.

| kind          | direction           | QoS | retained | payload                   |
|---------------|---------------------|-----|----------|---------------------------|
| ``telemetry`` | node -> cloud       | 1   | no       | :class:`Telemetry`        |
| ``status``    | node -> cloud       | 1   | yes      | :class:`Status` (birth, last will) |
| ``health``    | node -> cloud       | 1   | no       | :class:`Health`           |
| ``cmd``       | controller -> node  | 1   | no       | :class:`Command`          |
| ``cmd/ack``   | node -> controller  | 1   | no       | :class:`Ack`              |

A node's broker account may publish only under its own prefix ``aisym/<park>/<node>/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROOT = "aisym"
KINDS = ("telemetry", "status", "health", "cmd", "cmd/ack")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class TopicError(ValueError):
    """A topic that does not follow the scheme."""


def _check(name: str, value: str) -> str:
    if not ID_RE.match(value):
        raise TopicError(f"{name} {value!r} must match {ID_RE.pattern} (lower case, digits, '_' or '-', at most 40)")
    return value


def node_prefix(park: str, node: str) -> str:
    return f"{ROOT}/{_check('park', park)}/{_check('node', node)}"


def telemetry(park: str, node: str) -> str:
    return f"{node_prefix(park, node)}/telemetry"


def status(park: str, node: str) -> str:
    return f"{node_prefix(park, node)}/status"


def health(park: str, node: str) -> str:
    return f"{node_prefix(park, node)}/health"


def command(park: str, node: str) -> str:
    return f"{node_prefix(park, node)}/cmd"


def ack(park: str, node: str) -> str:
    return f"{node_prefix(park, node)}/cmd/ack"


def subscription(kind: str, park: str = "+", node: str = "+") -> str:
    """A filter for one kind of message across nodes (and parks), e.g. ``aisym/+/+/telemetry``."""
    if kind not in KINDS:
        raise TopicError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    return f"{ROOT}/{park}/{node}/{kind}"


def shared(group: str, topic_filter: str) -> str:
    """An MQTT v5 shared subscription: the broker splits messages among the group's members."""
    return f"$share/{_check('group', group)}/{topic_filter}"


@dataclass(frozen=True)
class Topic:
    park: str
    node: str
    kind: str


def parse(topic: str) -> Topic:
    """Split a topic into park, node and kind. Raises :class:`TopicError`."""
    parts = topic.split("/")
    if len(parts) < 4 or parts[0] != ROOT:
        raise TopicError(f"topic {topic!r} is not aisym/<park>/<node>/<kind>")
    kind = "/".join(parts[3:])
    if kind not in KINDS:
        raise TopicError(f"topic {topic!r}: unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    return Topic(_check("park", parts[1]), _check("node", parts[2]), kind)
