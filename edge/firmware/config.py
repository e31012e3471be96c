# Node configuration. DEFAULTS hold every key; config.json on the device (written by
# `aisym node build`) overrides them key by key. Impossible values raise ValueError naming
# the file and the key, so a bad deploy fails at boot with a clear log line, not later.
import json

DEFAULTS = {
    "park": "kraakoya",
    "node": "sensor-node",
    "version": "0.1.0",
    "role": "sensor_node",
    "sample_s": 10,  # default rate: one scan of every channel each 10 s
    "deep_sleep_s": 0,  # > 0: battery node, sleeps between scans (see docs/firmware.md)
    "watchdog_ms": 8000,  # RP2040's WDT maximum is 8388 ms
    "led_pin": 2,
    "health_s": 300,
    "wifi": {"ssid": "", "password": "", "hold_ms": 5000, "backoff_ms": [1000, 60000], "timeout_ms": 20000},
    "mqtt": {
        "host": "127.0.0.1",
        "port": 1883,
        "user": "",
        "password": "",
        "tls": False,
        "ca": "",  # CA file on the device; verify the broker's certificate when set
        "server_hostname": "",
        "keepalive_s": 60,
        "response_ms": 10000,  # QoS 1: resend after this long without PUBACK
        "max_repubs": 4,  # then the link counts as broken (OSError)
        "batch": 10,  # readings per telemetry message (at most what fits the 2 KiB buffer of main.py)
        "backoff_ms": [500, 30000],
    },
    "ntp": {"host": "pool.ntp.org", "port": 123, "retries": 5, "timeout_ms": 1000, "resync_s": 3600},
    "buffer": {"dir": "buf", "segments": 180, "flush_n": 40, "flush_s": 60},
    "rs485": {"uart": 1, "tx": 17, "rx": 16, "de": 4, "baud": 9600, "bits": 8, "parity": None, "stop": 1, "devices": []},
    "channels": [],
}

_KINDS = ("ds18b20", "analog", "pulse", "modbus", "fake")


def _merge(base, over, path, name):
    out = dict(base)
    for k, v in over.items():
        if k not in base:
            raise ValueError("%s: %s%s: unknown key" % (name, path, k))
        if isinstance(base[k], dict) and isinstance(v, dict):
            out[k] = _merge(base[k], v, path + k + ".", name)
        else:
            out[k] = v
    return out


def _need(cond, name, key, why):
    if not cond:
        raise ValueError("%s: %s: %s" % (name, key, why))


def check(cfg: dict, name: str = "config") -> dict:
    _need(isinstance(cfg["sample_s"], (int, float)) and cfg["sample_s"] > 0, name, "sample_s", "must be > 0 s")
    _need(0 < cfg["mqtt"]["port"] < 65536, name, "mqtt.port", "must be 1..65535")
    _need(cfg["mqtt"]["keepalive_s"] >= 5, name, "mqtt.keepalive_s", "must be >= 5 s")
    _need(0 < cfg["mqtt"]["batch"] <= 1000, name, "mqtt.batch", "must be 1..1000 (contract limit)")
    _need(cfg["watchdog_ms"] == 0 or cfg["watchdog_ms"] >= 1000, name, "watchdog_ms", "0 (off) or >= 1000 ms")
    _need(cfg["buffer"]["segments"] >= 2, name, "buffer.segments", "must be >= 2")
    _need(cfg["buffer"]["flush_n"] >= 1, name, "buffer.flush_n", "must be >= 1")
    _need(len(cfg["channels"]) <= 255, name, "channels", "at most 255 channels")
    for i, ch in enumerate(cfg["channels"]):
        key = "channels[%d]" % i
        _need(isinstance(ch, dict) and "tag" in ch and "unit" in ch, name, key, "needs 'tag' and 'unit'")
        _need("." in ch["tag"], name, key + ".tag", "must be <asset>.<tag>, got %r" % ch["tag"])
        _need(ch.get("kind") in _KINDS, name, key + ".kind", "must be one of %s" % ", ".join(_KINDS))
        if "min" in ch or "max" in ch:  # the tag's range: a value outside it is sent out_of_range
            lo, hi = ch.get("min"), ch.get("max")
            _need(isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo < hi, name, key + ".min",
                  "min and max must be numbers with min < max, got %r and %r" % (lo, hi))
    return cfg


def load(path: str = "config.json") -> dict:
    try:
        with open(path) as f:
            over = json.load(f)
    except OSError:
        over = {}  # no file: run on the defaults (a bench node)
    except ValueError as e:
        raise ValueError("%s: not JSON (%s)" % (path, e)) from None
    if not isinstance(over, dict):
        raise ValueError("%s: must hold a JSON object" % path)
    return check(_merge(DEFAULTS, over, "", path), path)
