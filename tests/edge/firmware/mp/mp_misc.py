# Device-side test: config, supervisor/watchdog, Wi-Fi backoff (fake network), SNTP against the
# test's UDP server on 127.0.0.1 (port in NTP_PORT; KOD_PORT answers kiss-o'-death).
import asyncio
import os

import check
import clock
import config
import machine
import network
from supervisor import Supervisor
from wifi import WiFi

# --- config ---------------------------------------------------------------------------------------
path = os.getenv("CFG_PATH")
with open(path, "w") as f:
    f.write('{"node": "n1", "mqtt": {"port": 1884}, "channels": [{"tag": "ras.ph", "unit": "pH", "kind": "fake"}]}')
cfg = config.load(path)
check.eq(
    (cfg["node"], cfg["mqtt"]["port"], cfg["mqtt"]["keepalive_s"]), ("n1", 1884, 60), "JSON overrides defaults key by key"
)
for text, want in (
    ('{"mqtt": {"prot": 1}}', "mqtt.prot: unknown key"),
    ('{"sample_s": 0}', "sample_s: must be > 0 s"),
    ('{"channels": [{"tag": "ph", "unit": "pH", "kind": "fake"}]}', "channels[0].tag"),
    ('{"channels": [{"tag": "ras.ph", "unit": "pH", "kind": "laser"}]}', "channels[0].kind"),
    ("{not json", "not JSON"),
):
    with open(path, "w") as f:
        f.write(text)
    try:
        config.load(path)
        check.ok(False, "config %s must be refused" % text)
    except ValueError as e:
        check.ok(path in str(e) and want in str(e), "error %r names file and key %r" % (str(e), want))

# --- supervisor ----------------------------------------------------------------------------------
wdt = machine.WDT(timeout=8000)
sup = Supervisor(8000, wdt)
sup.register("sampler", 100)
sup.register("publisher", 100)
check.eq(sup.check(), None, "all alive: fed")
check.eq(wdt.fed, 1, "fed once")


async def stall():
    await asyncio.sleep_ms(150)
    sup.alive("publisher")  # the sampler hangs
    return sup.check()


check.eq(asyncio.run(stall()), "sampler", "a hung task stops the feeding")
check.eq(wdt.fed, 1, "not fed while a task is late")
sup.alive("sampler")
check.eq(sup.check(), None, "fed again once it is back")

# --- Wi-Fi backoff ---------------------------------------------------------------------------------
network.WLAN.plan = ["fail", "flap", "ok"]
w = WiFi({"ssid": "park", "password": "x", "hold_ms": 400, "backoff_ms": [100, 150], "timeout_ms": 200}, network)
asyncio.run(w.ensure())
check.eq(w.attempts, 3, "failed, flapped, then connected")
check.eq(w.failures, 2, "a link that drops within hold_ms counts as failed")
c = network.WLAN.connects
check.ok(len(c) == 3 and c[1] - c[0] >= 300 and c[2] - c[1] >= 550, "waits timeout + backoff between tries: %r" % c)

# --- clock ----------------------------------------------------------------------------------------
check.eq(clock.now_ms(), None, "no wall time before sync")
ntp = {"host": "127.0.0.1", "port": int(os.getenv("KOD_PORT")), "retries": 2, "timeout_ms": 300, "resync_s": 3600}
check.eq(asyncio.run(clock.sync(ntp, sleep_ms=10)), False, "kiss-o'-death is refused")
check.eq(clock.now_ms(), None, "still no wall time")
ntp["port"] = 9  # nobody: timeouts
check.eq(asyncio.run(clock.sync(ntp, sleep_ms=10)), False, "timeouts retried then give up")
check.eq(clock.failures, 4, "failures counted")
ntp["port"] = int(os.getenv("NTP_PORT"))
check.eq(asyncio.run(clock.sync(ntp, sleep_ms=10)), True, "synced")
want = int(os.getenv("NTP_NOW_MS"))
check.ok(abs(clock.now_ms() - want) < 60000, "time from the server: %r vs %r" % (clock.now_ms(), want))
u1 = clock.uptime_ms()
check.ok(u1 >= 0 and clock.uptime_ms() >= u1, "uptime never goes back")
check.done("misc")
