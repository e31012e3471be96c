# Time for readings. `uptime_ms()` never wraps (ticks_ms wraps every ~12 days on a board and
# ticks_diff is only right for spans under half of that, so it is extended here on each call).
# Wall time comes only from NTP: epoch ms = anchor + uptime ms. Until the first sync there is
# no wall time at all (`now_ms()` returns None), so a reading can never carry a made-up
# timestamp; the ring buffer dates it once the clock is synced and flags it ts_synced=false.
import socket
import struct
import time

NTP_DELTA_S = 2208988800  # 1900-01-01 to 1970-01-01
_last = time.ticks_ms()
_acc = 0
anchor = None  # epoch ms at uptime 0, once synced
syncs = 0
failures = 0
_addrs = {}  # type: dict  # (host, port) -> sockaddr, resolved once: a DNS lookup blocks during an outage


def uptime_ms():
    global _last, _acc
    now = time.ticks_ms()
    _acc += time.ticks_diff(now, _last)
    _last = now
    return _acc


def now_ms():
    """Epoch milliseconds, or None while the clock has never been synced."""
    return None if anchor is None else anchor + uptime_ms()


def set_epoch_ms(epoch_ms):
    global anchor, syncs
    anchor = epoch_ms - uptime_ms()
    syncs += 1
    return anchor


def sntp_query(host, port=123, timeout_ms=1000, addr=None):
    """One SNTP (RFC 4330) request; returns the server's epoch ms corrected by half the round trip.
    Raises OSError on timeout and ValueError on a Kiss-o'-Death or implausible answer."""
    pkt = bytearray(48)
    pkt[0] = 0x23  # LI 0, version 4, mode 3 (client)
    if addr is None:
        addr = _addrs.get((host, port))
    if addr is None:
        addr = _addrs[(host, port)] = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0][-1]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout_ms / 1000)
        t0 = time.ticks_ms()
        s.sendto(pkt, addr)
        data = s.recv(48)
        rtt = time.ticks_diff(time.ticks_ms(), t0)
    finally:
        s.close()
    if len(data) < 48:
        raise ValueError("short NTP reply")
    mode = data[0] & 7
    stratum = data[1]
    if mode not in (4, 5) or stratum == 0 or stratum > 15:
        raise ValueError("NTP kiss-o'-death or bad reply (stratum %d)" % stratum)  # micropython-lib#604
    secs, frac = struct.unpack_from("!II", data, 40)
    if secs == 0:
        raise ValueError("NTP reply without transmit time")
    ms = (secs - NTP_DELTA_S) * 1000 + (frac * 1000 >> 32) + rtt // 2
    if ms < 946684800000:  # before 2000: a server that lost its own clock
        raise ValueError("NTP time before 2000")
    return ms


async def sync(cfg, sleep_ms=None, log=None):
    """Sync with retries and growing pauses (ntptime's single 1 s try often times out). True on success."""
    global failures
    import asyncio

    pause = 500
    for attempt in range(cfg["retries"]):
        try:
            ms = sntp_query(cfg["host"], cfg["port"], cfg["timeout_ms"])
            set_epoch_ms(ms)
            _set_rtc(ms)
            return True
        except (OSError, ValueError, IndexError) as e:
            failures += 1
            if log:
                log("ntp: try %d failed: %s" % (attempt + 1, e))
        await asyncio.sleep_ms(pause if sleep_ms is None else sleep_ms)
        pause = min(pause * 2, 8000)
    return False


def _set_rtc(ms):
    # keep the board's RTC roughly right for logs; readings use the anchor, not the RTC
    try:
        import machine

        tm = time.gmtime(ms // 1000)
        machine.RTC().datetime((tm[0], tm[1], tm[2], tm[6] + 1, tm[3], tm[4], tm[5], 0))
    except Exception:  # the unix port has no RTC; not needed for readings
        pass
