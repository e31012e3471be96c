"""The broker's side of the hardening (issue 10): client ids bound to accounts, per-role ACL,
denied subscriptions, the packet size limit and the TLS-only listener, against the real Mosquitto.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time

import pytest

from aisym.contract import topics
from aisym.services import MAX_PACKET_BYTES, check_subscribe, may_publish
from tests.cloud.helpers import publish_all, publisher, seqs_in_influx, telemetry, wait_for
from tests.conftest import PARK_ID, USERS, make_broker
from tests.support import MqttProbe


def _probe(broker, user: str, client_id: str) -> MqttProbe:
    p = MqttProbe("127.0.0.1", broker.port, user, USERS[user], client_id)
    rc = p.connect()
    assert not rc.is_failure, f"{user}: {rc}"
    return p


def test_a_node_cannot_take_over_the_ingestors_session(mosquitto, influxdb, influx, make_ingestor, unique_id):
    """A node connecting with the ingestor's client id (and with its account name) while readings flow.

    Without ``use_username_as_clientid`` the intruder takes the persistent session and its queued
    readings (0 of 40 stored in the issue's trial); bound to accounts, it only ever gets its own.
    """
    ing = make_ingestor(mosquitto, influxdb.url, influx.database, client_id=f"aisym-ingest-{unique_id}-host")
    wait_for(lambda: ing.connected, 5, "ingestor connected")
    pub = publisher(mosquitto, "node-b", f"{unique_id}-pub")
    intruders = []
    for i in range(40):
        if i % 10 == 0:  # a fresh takeover attempt every ten readings, with both ids the ingestor could have
            cid = ing.cfg.client_id if i % 20 == 0 else "ingest"
            intruder = MqttProbe("127.0.0.1", mosquitto.port, "node-a", USERS["node-a"], cid)
            assert not intruder.connect(clean_start=False, session_expiry=300).is_failure
            intruders.append(intruder)
        publish_all(pub, "node-b", [telemetry("node-b", [i])])
    pub.close()
    with contextlib.suppress(TimeoutError):
        wait_for(lambda: len(seqs_in_influx(influx, "node-b")) >= 40, 10, "40 readings stored")
    stored = seqs_in_influx(influx, "node-b")
    print(f"takeover attempts: {len(stored)} of 40 readings stored, ingestor connects {ing.counters.connects}")
    assert stored == list(range(40)), f"{len(stored)} of 40 readings stored"
    assert ing.counters.connects == 1, "the ingestor was kicked off"
    assert all(not p.messages for p in intruders)
    for p in intruders:
        p.close()


def test_two_connections_of_one_account_share_one_session(fresh_mosquitto, unique_id):
    """The flip side: the account is the client id, so a second connection replaces the first."""
    first = _probe(fresh_mosquitto, "node-a", f"{unique_id}-1")
    disconnected = []
    first.client.on_disconnect = lambda c, u, flags, rc, props: disconnected.append(rc.value)
    first.client.reconnect_delay_set(30, 30)  # no automatic comeback during the test
    second = _probe(fresh_mosquitto, "node-a", f"{unique_id}-2")
    wait_for(lambda: bool(disconnected), 5, "the first connection replaced", every=0.02)
    assert len(disconnected) == 1 and disconnected[0] >= 128  # paho 2.2 reports 128 "Unspecified error"
    second.close()
    first.close()


# (account, topic, allowed): every role's own prefix, and what it must not do
ACL_CASES = [
    ("node-a", topics.telemetry(PARK_ID, "node-a"), True),
    ("node-a", topics.status(PARK_ID, "node-a"), True),
    ("node-a", topics.ack(PARK_ID, "node-a"), True),
    ("node-a", topics.command(PARK_ID, "node-a"), False),  # a node does not command (itself either)
    ("node-a", topics.telemetry(PARK_ID, "node-b"), False),
    ("ingest", topics.status(PARK_ID, "ingest"), True),
    ("ingest", topics.health(PARK_ID, "ingest"), True),
    ("ingest", topics.telemetry(PARK_ID, "ingest"), False),  # services never publish telemetry
    ("ingest", topics.status(PARK_ID, "node-a"), False),
    ("ingest-2", topics.status(PARK_ID, "ingest"), False),
    ("controller", topics.status(PARK_ID, "controller"), True),
    ("controller", topics.telemetry(PARK_ID, "controller"), False),
    ("controller", topics.command(PARK_ID, "gateway"), True),
    ("controller", topics.command(PARK_ID, "ghost"), False),  # a node nobody configured
    ("controller", topics.command("otherpark", "gateway"), False),
    ("controller", topics.telemetry(PARK_ID, "node-a"), False),
]


def test_acl_per_role_matches_the_client_side_check(mosquitto, unique_id):
    listener = _probe(mosquitto, "admin", f"{unique_id}-l")
    listener.subscribe("aisym/kraakoya/#")
    clients, sent = {}, []
    for user, topic, allowed in ACL_CASES:
        if user not in clients:
            clients[user] = _probe(mosquitto, user, f"{unique_id}-{user}")
        p = clients[user]
        body = f"{user} {topic}".encode()
        sent.append((p, p.publish(topic, body), body, allowed))
        assert may_publish(mosquitto.acl, user, topic) is allowed, (user, topic)
    for p, mid, _, _ in sent:
        p.wait(lambda p=p, mid=mid: mid in p.pubacks, 5, "PUBACK")
    time.sleep(0.3)
    got = {m.payload for m in listener.messages if not m.retain}
    for (p, mid, body, allowed), (user, topic, _) in zip(sent, ACL_CASES, strict=True):
        assert (p.pubacks[mid] == 0) is allowed, f"{user} -> {topic}: PUBACK {p.pubacks[mid]}"
        assert (body in got) is allowed, f"{user} -> {topic}: delivered {body in got}"
    for p in [*clients.values(), listener]:
        p.close()


def test_a_denied_subscription_is_granted_and_delivers_nothing(mosquitto, unique_id):
    """What Mosquitto 2.0.11 does with ``acl_file``: SUBACK grants QoS 1, and no message ever comes.

    The broker gives no reason code, so :func:`check_subscribe` (and ``aisym services check``)
    answers from the ACL the stack generated.
    """
    node = _probe(mosquitto, "node-a", f"{unique_id}-n")
    subacks = []
    node.client.on_subscribe = lambda c, u, mid, rcs, props: subacks.append([rc.value for rc in rcs])
    node.client.subscribe(topics.telemetry(PARK_ID, "node-b"), qos=1)
    wait_for(lambda: bool(subacks), 5, "SUBACK", every=0.02)  # on_subscribe does not wake MqttProbe.wait
    other = _probe(mosquitto, "node-b", f"{unique_id}-b")
    mid = other.publish(topics.telemetry(PARK_ID, "node-b"), b"not for node-a")
    other.wait(lambda: mid in other.pubacks, 5, "PUBACK")
    time.sleep(0.5)
    assert subacks == [[1]]  # "Granted QoS 1": no 0x87 from acl_file
    assert node.messages == []
    assert check_subscribe(mosquitto.acl, "node-a", topics.telemetry(PARK_ID, "node-b")) == "none"
    assert check_subscribe(mosquitto.acl, "node-a", topics.command(PARK_ID, "node-a")) == "all"
    assert check_subscribe(mosquitto.acl, "node-a", "aisym/kraakoya/+/cmd") == "some"
    assert check_subscribe(mosquitto.acl, "ingest", "$share/g/aisym/kraakoya/+/telemetry") == "all"
    assert check_subscribe(mosquitto.acl, "ingest", "aisym/+/+/telemetry") == "some"
    other.close()
    node.close()


def test_tls_only_broker_has_no_plain_listener(tmp_path, unique_id):
    broker = make_broker(tmp_path / "mq", tls_only=True)
    assert broker.port is None
    with broker:
        conf = broker.conf.read_text()
        listeners = [line for line in conf.splitlines() if line.startswith("listener")]
        assert listeners == [f"listener {broker.tls_port} 127.0.0.1"]
        p = MqttProbe("localhost", broker.tls_port, "node-a", USERS["node-a"], unique_id, ca_file=str(broker.ca_file))
        assert not p.connect().is_failure
        p.close()
        # plain MQTT on the only port gets no CONNACK: the TLS handshake fails and the socket closes
        with socket.create_connection(("127.0.0.1", broker.tls_port), timeout=5) as s:
            s.sendall(bytes([0x10, 12, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 30, 0, 0]))
            with pytest.raises((ConnectionError, ssl.SSLError)):
                if s.recv(4) in (b"", None):
                    raise ConnectionResetError("closed without CONNACK")


def test_max_packet_size_is_the_contract_limit_plus_headers(mosquitto):
    from aisym.contract.payload import MAX_PAYLOAD_BYTES

    assert f"max_packet_size {MAX_PACKET_BYTES}" in mosquitto.conf.read_text()
    assert MAX_PAYLOAD_BYTES < MAX_PACKET_BYTES <= MAX_PAYLOAD_BYTES + 4096
