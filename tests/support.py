"""Test helpers shared across the suite: a blocking MQTT v5 client that records what it gets."""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


@dataclass
class MqttProbe:
    """A paho v5 client for tests. Records CONNACK, PUBACK reason codes and received messages."""

    host: str
    port: int
    username: str
    password: str
    client_id: str
    ca_file: str | None = None
    connack: object | None = None
    messages: list[mqtt.MQTTMessage] = field(default_factory=list)
    pubacks: dict[int, int] = field(default_factory=dict)  # mid -> reason code value

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5)
        c.username_pw_set(self.username, self.password)
        if self.ca_file:
            c.tls_set(ca_certs=self.ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.on_publish = self._on_publish
        self.client = c

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        with self._lock:
            self.connack = reason_code
            self._lock.notify_all()

    def _on_message(self, client, userdata, msg):
        with self._lock:
            self.messages.append(msg)
            self._lock.notify_all()

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._lock:
            self.pubacks[mid] = reason_code.value
            self._lock.notify_all()

    def connect(self, timeout: float = 5.0, clean_start: bool = True, session_expiry: int = 0):
        props = Properties(PacketTypes.CONNECT)
        if session_expiry:
            props.SessionExpiryInterval = session_expiry
        self.client.connect(self.host, self.port, keepalive=30, clean_start=clean_start, properties=props)
        self.client.loop_start()
        self.wait(lambda: self.connack is not None, timeout, "CONNACK")
        return self.connack

    def wait(self, predicate, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {what} within {timeout} s")
                self._lock.wait(left)

    def subscribe(self, topic: str, qos: int = 1) -> None:
        self.client.subscribe(topic, qos)
        time.sleep(0.2)  # SUBACK

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> int:
        return self.client.publish(topic, payload, qos=qos, retain=retain).mid

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def clear_session(broker, user: str, password: str) -> None:
    """End the persistent session of ``user`` on ``broker`` (the broker names sessions by account).

    A clean start with no session expiry discards what an earlier test's client left queued or
    subscribed. It also replaces a connection of that account that is still open.
    """
    port, ca = (broker.port, None) if broker.port else (broker.tls_port, str(broker.ca_file))
    probe = MqttProbe("localhost" if ca else "127.0.0.1", port, user, password, user, ca_file=ca)
    rc = probe.connect(clean_start=True, session_expiry=0)
    probe.close()
    if rc.is_failure:
        raise RuntimeError(f"clearing the session of {user!r}: broker said {rc}")
