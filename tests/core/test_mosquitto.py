"""The real Mosquitto: passwords, per-node ACL (MQTT v5 reason codes), TLS, persistent sessions."""

from __future__ import annotations

import time

import pytest

from aisym.contract import topics
from tests.conftest import USERS
from tests.support import MqttProbe


def _probe(broker, user, cid, password=None, tls=False):
    port = broker.tls_port if tls else broker.port
    return MqttProbe(
        "localhost" if tls else "127.0.0.1",
        port,
        user,
        password or USERS[user],
        cid,
        ca_file=str(broker.ca_file) if tls else None,
    )


def test_wrong_password_is_refused(mosquitto, unique_id):
    p = _probe(mosquitto, "node-a", unique_id, password="wrong")
    rc = p.connect()
    p.close()
    assert rc.is_failure and rc.value == 135  # Not authorized


def test_node_publishing_outside_its_prefix_is_refused(mosquitto, unique_id):
    listener = _probe(mosquitto, "admin", unique_id + "-l")
    assert not listener.connect().is_failure
    listener.subscribe(topics.subscription("telemetry", "kraakoya"))
    node = _probe(mosquitto, "node-a", unique_id + "-n")
    assert not node.connect().is_failure
    own = node.publish(topics.telemetry("kraakoya", "node-a"), b"own")
    foreign = node.publish(topics.telemetry("kraakoya", "node-b"), b"spoofed")
    node.wait(lambda: own in node.pubacks and foreign in node.pubacks, 5, "PUBACKs")
    assert node.pubacks[own] == 0
    assert node.pubacks[foreign] == 135  # v5 PUBACK: Not authorized
    listener.wait(lambda: len(listener.messages) >= 1, 5, "own message")
    time.sleep(0.5)
    assert [m.payload for m in listener.messages if not m.retain] == [b"own"]
    node.close()
    listener.close()


def test_tls_publish_and_subscribe(mosquitto, unique_id):
    sub = _probe(mosquitto, "ingest", unique_id + "-s", tls=True)
    assert not sub.connect().is_failure
    sub.subscribe(topics.subscription("telemetry", "kraakoya"))
    pub = _probe(mosquitto, "node-b", unique_id + "-p", tls=True)
    assert not pub.connect().is_failure
    pub.publish(topics.telemetry("kraakoya", "node-b"), b"over tls")
    sub.wait(lambda: sub.messages, 5, "message over TLS")
    assert sub.messages[0].payload == b"over tls"
    pub.close()
    sub.close()


def test_tls_refuses_an_unknown_ca(mosquitto, unique_id, tmp_path):
    import ssl

    from aisym.services.tls import make_ca_and_server_cert

    other = make_ca_and_server_cert(tmp_path / "other")
    p = MqttProbe("localhost", mosquitto.tls_port, "node-a", USERS["node-a"], unique_id, ca_file=str(other["ca"]))
    with pytest.raises(ssl.SSLError):
        p.client.connect("localhost", mosquitto.tls_port)


def test_persistent_session_keeps_messages_while_offline(mosquitto, unique_id):
    sub = _probe(mosquitto, "ingest", unique_id + "-s")
    sub.connect(clean_start=True, session_expiry=300)
    sub.subscribe("aisym/kraakoya/node-a/telemetry")
    sub.close()
    pub = _probe(mosquitto, "node-a", unique_id + "-p")
    pub.connect()
    mids = [pub.publish("aisym/kraakoya/node-a/telemetry", str(i).encode()) for i in range(50)]
    pub.wait(lambda: all(m in pub.pubacks for m in mids), 5, "PUBACKs")
    pub.close()
    again = _probe(mosquitto, "ingest", unique_id + "-s")
    again.client.on_message = again._on_message
    again.connect(clean_start=False, session_expiry=0)  # resume, then let the session end
    again.wait(lambda: len(again.messages) >= 50, 10, "queued messages")
    assert [int(m.payload) for m in again.messages] == list(range(50))
    again.close()
