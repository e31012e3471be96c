"""Ports handed out by one process never collide before they are listened on (a CI run: a broker
restarted after a half-dead stack got the same port for its plain and TLS listeners, as the kernel
may hand a port it just released straight back)."""

from __future__ import annotations

import pytest

from aisym.services import _proc
from aisym.services.mosquitto import Mosquitto


class _Kernel:
    """A socket whose ``bind(0)`` gets the next of ``offered``: the kernel handing a port back."""

    def __init__(self, offered):
        self.offered = iter(offered)

    def __call__(self):
        kernel = self

        class Socket:
            def __enter__(self):
                self.port = next(kernel.offered)
                return self

            def __exit__(self, *a):
                return False

            def bind(self, addr):
                pass

            def getsockname(self):
                return ("127.0.0.1", self.port)

        return Socket()


@pytest.fixture
def kernel(monkeypatch):
    monkeypatch.setattr(_proc, "_HANDED", _proc.collections.deque(maxlen=256))

    def offer(*ports):
        monkeypatch.setattr(_proc.socket, "socket", _Kernel(ports))

    return offer


def test_free_port_never_hands_out_a_port_twice(kernel):
    kernel(50001, 50001, 50001, 50002)
    assert [_proc.free_port(), _proc.free_port()] == [50001, 50002]


def test_a_recorded_port_is_never_picked_for_another_listener(kernel, tmp_path):
    # a stack restarted from its state: the plain port is given, the TLS port picked while nothing
    # listens on the plain one yet, and the kernel offers it: it is refused
    kernel(50011, 50012)
    broker = Mosquitto(tmp_path, {"admin": "pw"}, [], port=50011)
    assert (broker.port, broker.tls_port) == (50011, 50012)


def test_the_plain_and_tls_listeners_cannot_share_a_port(kernel, tmp_path):
    with pytest.raises(ValueError, match="cannot share port 50021"):
        Mosquitto(tmp_path, {"admin": "pw"}, [], port=50021, tls_port=50021)
