"""The broker's access rules: who may publish and receive what, and a client-side check of them.

Mosquitto 2.0.11's ``acl_file`` grants every SUBSCRIBE (SUBACK reason 0-2) and then silently
delivers nothing the account may not read; it gives no reason code. :func:`check_subscribe`
answers the question a client cannot ask the broker: will this filter deliver all, some or none
of its topics to this account? ``aisym services check`` prints it for the stack's own ACL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

NODE_WRITES = ("telemetry", "status", "health", "cmd/ack")  # what a node account publishes
SERVICE_WRITES = ("status", "health")  # a service account announces itself, nothing else


@dataclass(frozen=True)
class AclRule:
    """One ``topic`` line of Mosquitto's ``acl_file`` for one account.

    :param user: the account
    :param access: ``read``, ``write``, ``readwrite`` or ``deny``
    :param topic: a topic filter (``+`` and ``#`` allowed)
    """

    user: str
    access: str
    topic: str

    def __post_init__(self) -> None:
        if self.access not in ("read", "write", "readwrite", "deny"):
            raise ValueError(f"ACL rule for {self.user!r}: access {self.access!r} is not read, write, readwrite or deny")


def park_acl(
    park_id: str,
    nodes: Iterable[str],
    ingestors: Iterable[str] = (),
    controllers: Iterable[str] = (),
    admins: Iterable[str] = (),
    cmd_nodes: Iterable[str] | None = None,
) -> list[AclRule]:
    """The standard rules of a park.

    - a node publishes only its own telemetry, status, health and command acks, and reads only its commands;
    - an ingestor reads the park and publishes only its own status and health;
    - a controller reads the park, publishes its own status and health, and commands only the
      nodes in ``cmd_nodes`` (default: ``nodes``), each by an explicit topic, never ``+``;
    - an admin may do everything (for operators and tests, not for programs).

    :raises ValueError: one name is given two roles (its rules would mix)
    """
    nodes, ingestors, controllers, admins = list(nodes), list(ingestors), list(controllers), list(admins)
    everyone = nodes + ingestors + controllers + admins
    twice = sorted({u for u in everyone if everyone.count(u) > 1})
    if twice:
        raise ValueError(f"accounts with two roles: {', '.join(twice)}")
    base = f"aisym/{park_id}"
    rules = []
    for n in nodes:
        rules += [AclRule(n, "write", f"{base}/{n}/{kind}") for kind in NODE_WRITES]
        rules.append(AclRule(n, "read", f"{base}/{n}/cmd"))
    for u in ingestors:
        rules.append(AclRule(u, "read", f"{base}/#"))
        rules += [AclRule(u, "write", f"{base}/{u}/{kind}") for kind in SERVICE_WRITES]
    for u in controllers:
        rules.append(AclRule(u, "read", f"{base}/#"))
        rules += [AclRule(u, "write", f"{base}/{u}/{kind}") for kind in SERVICE_WRITES]
        rules += [AclRule(u, "write", f"{base}/{n}/cmd") for n in (nodes if cmd_nodes is None else cmd_nodes)]
    rules += [AclRule(u, "readwrite", "#") for u in admins]
    # "#" does not match "$SYS/...": the broker's own counters (messages dropped past a client's
    # queue cap, connections) are read by operators only, never by programs.
    rules += [AclRule(u, "read", "$SYS/#") for u in admins]
    return rules


def acl_text(rules: Iterable[AclRule]) -> str:
    """The ``acl_file`` content: one ``user`` block per account, in first-seen order."""
    rules = list(rules)
    lines = []
    for user in dict.fromkeys(r.user for r in rules):
        lines.append(f"user {user}")
        lines += [f"topic {r.access} {r.topic}" for r in rules if r.user == user]
        lines.append("")
    return "\n".join(lines)


def parse_acl(text: str) -> list[AclRule]:
    """Read back an ``acl_file`` written by :func:`acl_text` (``user`` blocks of ``topic`` lines)."""
    rules, user = [], None
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "user" and len(words) == 2:
            user = words[1]
        elif words[0] == "topic" and user is not None and len(words) in (2, 3):
            rules.append(AclRule(user, words[1] if len(words) == 3 else "readwrite", words[-1]))
        else:
            raise ValueError(f"acl line {n}: {line.strip()!r} is not 'user NAME' or 'topic ACCESS FILTER'")
    return rules


def _covers(pattern: list[str], filt: list[str]) -> bool:
    """Every topic that ``filt`` matches is matched by ``pattern``."""
    for i, p in enumerate(pattern):
        if p == "#":
            return True
        if i >= len(filt) or filt[i] == "#":
            return False
        if p != "+" and p != filt[i]:
            return False
    return len(filt) == len(pattern)


def _overlaps(a: list[str], b: list[str]) -> bool:
    """Some topic is matched by both filters."""
    for i in range(max(len(a), len(b))):
        x, y = (a[i] if i < len(a) else None), (b[i] if i < len(b) else None)
        if x == "#" or y == "#":
            return True
        if x is None or y is None:
            return False
        if x != "+" and y != "+" and x != y:
            return False
    return True


def _levels(topic_filter: str) -> list[str]:
    if topic_filter.startswith("$share/"):  # $share/<group>/<filter>: the ACL applies to <filter>
        topic_filter = topic_filter.split("/", 2)[2] if topic_filter.count("/") >= 2 else ""
    return topic_filter.split("/")


def may_publish(rules: Iterable[AclRule], user: str, topic: str) -> bool:
    """Whether the broker accepts a PUBLISH from ``user`` to ``topic`` (a topic, not a filter)."""
    mine = [r for r in rules if r.user == user]
    levels = topic.split("/")
    if any(r.access == "deny" and _covers(_levels(r.topic), levels) for r in mine):
        return False
    return any(r.access in ("write", "readwrite") and _covers(_levels(r.topic), levels) for r in mine)


def publishers(rules: Iterable[AclRule], topic: str) -> set[str]:
    """Every account the broker lets publish to ``topic``: what a subscriber may attribute a message on
    it to (the controller takes a node's status and telemetry from the node's own topics)."""
    rules = list(rules)
    return {u for u in dict.fromkeys(r.user for r in rules) if may_publish(rules, u, topic)}


def check_subscribe(rules: Iterable[AclRule], user: str, topic_filter: str) -> str:
    """What a subscription of ``user`` to ``topic_filter`` will deliver: ``all``, ``some`` or ``none``.

    Mosquitto 2.0.11 grants the SUBSCRIBE either way; ``none`` means it will never deliver a message.
    """
    mine = [r for r in rules if r.user == user and r.access in ("read", "readwrite")]
    levels = _levels(topic_filter)
    if any(_covers(_levels(r.topic), levels) for r in mine):
        return "all"
    if any(_overlaps(_levels(r.topic), levels) for r in mine):
        return "some"
    return "none"
