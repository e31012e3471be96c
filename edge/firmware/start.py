# Boot: load the configuration, start the watchdog, then run the node for ever or, for a
# battery node, do one wake cycle and deep-sleep. Called by main.py; see docs/firmware.md.
import asyncio
import gc

import status


def tls_context(ca):
    """TLS client context; verifies the broker against `ca` (a DER file on the device) when set."""
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca:
        ctx.load_verify_locations(cafile=ca)
        ctx.verify_mode = ssl.CERT_REQUIRED  # type: ignore[attr-defined]  # MicroPython has it; the stub lacks it
    else:
        ctx.verify_mode = ssl.CERT_NONE  # type: ignore[attr-defined]
    return ctx


def load(path):
    import sys

    import config

    cfg = config.load(path)
    del sys.modules["config"]  # the defaults are merged in: free their heap
    return cfg


def main(path="config.json", tx=None):
    """Entry point from main.py: load config, start the watchdog, run (or sleep-cycle) forever."""
    try:
        cfg = load(path)
    except ValueError as e:
        status.set_state(status.CONFIG_ERROR)
        status.log("config error: %s" % e)
        asyncio.run(status.blink())
        return
    gc.collect()
    status.init_led(cfg["led_pin"])
    import machine

    from node import Node

    try:
        import network as net
    except ImportError:
        net = None  # type: ignore[assignment]  # no Wi-Fi module: a wired or unix-port node
    wdt = machine.WDT(timeout=cfg["watchdog_ms"]) if cfg["watchdog_ms"] and hasattr(machine, "WDT") else None
    node = Node(cfg, network=net, wdt=wdt, tx=tx)
    if cfg["deep_sleep_s"] > 0:
        from sleepcycle import cycle

        asyncio.run(cycle(node))
        machine.deepsleep(int(cfg["deep_sleep_s"] * 1000))
    asyncio.run(node.run())
