# Flash-backed ring buffer of readings with per-node sequence numbers.
#
# Why this shape: on-chip flash survives ~10k erase cycles and littlefs rewrites the last
# block of a file on each append, so readings collect in RAM and go to flash in batches
# (flush_n readings or flush_s seconds, whichever comes first). A power cut loses at most
# that batch, never a reading the broker acknowledged. Files are segments of one 4 KiB
# block each; the oldest segment is deleted when it is fully acknowledged (ACK before
# delete) or, when the buffer is full, dropped and counted in `discards`.
#
# Segment file  s<number>: 34-byte header + 10-byte records.
#   header <2sBBQqqIH: magic, version, flags (1: timestamps synced), base_seq,
#          base_ts (epoch ms if synced, else uptime ms), lower_ms (unsynced: a lower bound
#          of the epoch at boot), boot number, tag table index
#   record <IBfB: ts - base_ts (ms), channel index, value (float32), quality (0 good,
#          1 stale, 2 comm_error, 3 out_of_range)
# state.json: acknowledged seq, boot counter, last synced epoch ms, clock anchors per boot.
import json
import os
import struct

HDR = "<2sBBQqqIH"
HDR_LEN = struct.calcsize(HDR)  # 34
REC = "<IBfB"
REC_LEN = struct.calcsize(REC)  # 10
BLOCK = 4096
PER_SEG = (BLOCK - HDR_LEN) // REC_LEN  # 406 readings per segment
MAGIC = b"AQ"
QUALITIES = ("good", "stale", "comm_error", "out_of_range")
_Q = {"good": 0, "stale": 1, "comm_error": 2, "out_of_range": 3}
_NAN = float("nan")


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class Segment:
    def __init__(self, num, base_seq, base_ts, lower_ms, boot, tagset, synced, count):
        self.num = num
        self.base_seq = base_seq
        self.base_ts = base_ts
        self.lower_ms = lower_ms
        self.boot = boot
        self.tagset = tagset
        self.synced = synced
        self.count = count  # records on flash


class RingBuffer:
    """Readings buffered on flash. `append` in RAM, `flush` to flash, `peek` and `ack` to send."""

    def __init__(self, folder="buf", segments=180, flush_n=40):
        self.dir = folder
        self.max_segments = segments
        self.flush_n = flush_n
        self.discards = 0  # readings dropped because the buffer was full
        self.flushes = 0
        self._pend = bytearray(flush_n * REC_LEN)  # preallocated: no heap churn per reading
        self._npend = 0
        self._segs = []  # type: list[Segment]  # Segment objects, oldest first; the last one is being filled
        self._tagsets = []
        self._tagset = -1
        self.anchor = None  # epoch ms at uptime 0 of this boot, once the clock is synced
        try:
            os.mkdir(folder)
        except OSError:
            pass
        self._load_state()
        self._scan()
        self.next_seq = self._segs[-1].base_seq + self._segs[-1].count if self._segs else self.acked + 1
        if self.next_seq <= self.acked:
            self.next_seq = self.acked + 1
        self.boot += 1
        self._save_state()

    # -- persistent state ---------------------------------------------------------------
    def _load_state(self):
        try:
            with open(self.dir + "/state.json") as f:
                st = json.load(f)
        except (OSError, ValueError):
            st = {}
        self.acked = st.get("ack", -1)
        self.boot = st.get("boot", 0)
        self.last_ms = st.get("last_ms", 0)
        self.anchors = {int(k): v for k, v in st.get("anchors", {}).items()}
        try:
            with open(self.dir + "/tags.json") as f:
                self._tagsets = json.load(f)
        except (OSError, ValueError):
            self._tagsets = []

    def _save_state(self):
        live = {s.boot for s in self._segs}
        anchors = {str(b): a for b, a in self.anchors.items() if b in live or b == self.boot}
        st = {"ack": self.acked, "boot": self.boot, "last_ms": self.last_ms, "anchors": anchors}
        tmp = self.dir + "/state.tmp"
        with open(tmp, "w") as f:
            json.dump(st, f)
        os.rename(tmp, self.dir + "/state.json")  # atomic on littlefs: never a half-written state

    def _scan(self):
        nums = sorted(int(n[1:]) for n in os.listdir(self.dir) if n[0] == "s" and n[1:].isdigit())
        for num in nums:
            path = self._path(num)
            size = os.stat(path)[6]
            with open(path, "rb") as f:
                hdr = f.read(HDR_LEN)
            if len(hdr) < HDR_LEN or hdr[:2] != MAGIC:
                os.remove(path)  # a segment cut before its header was complete holds nothing
                continue
            _, _, flags, base_seq, base_ts, lower_ms, boot, tagset = struct.unpack(HDR, hdr)
            count = (size - HDR_LEN) // REC_LEN
            self._segs.append(Segment(num, base_seq, base_ts, lower_ms, boot, tagset, flags & 1, count))
        # drop segments that are fully acknowledged (a power cut between ack and delete)
        while self._segs and self._segs[0].base_seq + self._segs[0].count - 1 <= self.acked and len(self._segs) > 1:
            os.remove(self._path(self._segs.pop(0).num))

    def _path(self, num):
        return "%s/s%08d" % (self.dir, num)

    # -- writing --------------------------------------------------------------------------
    def set_tags(self, table):
        """The channel table [[tag, unit], ...] that channel indexes refer to from now on."""
        table = [list(t) for t in table]
        if table not in self._tagsets:
            self._tagsets.append(table)
            with open(self.dir + "/tags.json", "w") as f:
                json.dump(self._tagsets, f)
        self._tagset = self._tagsets.index(table)

    def set_anchor(self, anchor_ms):
        """The clock was synced: epoch ms = anchor + uptime ms for this boot. Persisted at once."""
        self.anchor = anchor_ms
        self.anchors[self.boot] = anchor_ms
        self._save_state()

    def append(self, ch, value, quality, uptime_ms):
        """Buffer one reading taken at `uptime_ms`; returns its seq. Flushes every flush_n."""
        if self._tagset < 0:
            raise ValueError("set_tags() first")
        synced = self.anchor is not None
        ts = self.anchor + uptime_ms if synced else uptime_ms
        seg = self._segs[-1] if self._segs else None
        total = seg.count + self._npend if seg else 0
        if (
            seg is None
            or seg.boot != self.boot
            or seg.synced != synced
            or seg.tagset != self._tagset
            or total >= PER_SEG
            or not 0 <= ts - seg.base_ts < 0xFFFFFFFF
        ):
            self.flush()
            seg = self._new_segment(ts, synced)
        struct.pack_into(
            REC, self._pend, self._npend * REC_LEN, ts - seg.base_ts, ch, _NAN if value is None else value, _Q[quality]
        )
        self._npend += 1
        seq = self.next_seq
        self.next_seq += 1
        if synced:
            self.last_ms = ts
        if self._npend >= self.flush_n:
            self.flush()
        return seq

    def _new_segment(self, ts, synced):
        while len(self._segs) >= self.max_segments:
            self._drop_oldest()
        num = self._segs[-1].num + 1 if self._segs else 0
        seg = Segment(num, self.next_seq, ts, self.last_ms, self.boot, self._tagset, 1 if synced else 0, 0)
        self._segs.append(seg)
        return seg

    def _drop_oldest(self):
        old = self._segs.pop(0)
        lost = old.base_seq + old.count - 1 - max(self.acked, old.base_seq - 1)
        if lost > 0:
            self.discards += lost
            self.acked = old.base_seq + old.count - 1
        try:
            os.remove(self._path(old.num))
        except OSError:
            pass

    def flush(self):
        """Write the RAM batch to flash: one append per batch spares flash wear."""
        if not self._npend:
            return
        seg = self._segs[-1]
        path = self._path(seg.num)
        n = self._npend * REC_LEN
        for _ in range(3):
            try:
                with open(path, "ab") as f:
                    if seg.count == 0:
                        f.write(
                            struct.pack(
                                HDR, MAGIC, 1, seg.synced, seg.base_seq, seg.base_ts, seg.lower_ms, seg.boot, seg.tagset
                            )
                        )
                    f.write(memoryview(self._pend)[:n])
                break
            except OSError:  # flash full (ENOSPC): make room from the oldest readings and retry
                if len(self._segs) < 2:
                    raise
                self._drop_oldest()
        seg.count += self._npend
        self._npend = 0
        self.flushes += 1
        self._save_state()

    # -- reading and acknowledging ----------------------------------------------------------
    def pending(self):
        """Readings buffered and not yet acknowledged (flash and RAM)."""
        return self.next_seq - 1 - self.acked

    def _ts(self, seg, rel):
        if seg.synced:
            return seg.base_ts + rel, True
        anchor = self.anchors.get(seg.boot)
        if anchor is not None:
            return anchor + seg.base_ts + rel, False  # measured before sync, dated from this boot's sync
        if seg.boot == self.boot:
            return None, False  # not datable yet: wait for the clock
        # an earlier boot that never synced: the best estimate is a lower bound, flagged
        return seg.lower_ms + seg.base_ts + rel, False

    def peek(self, n):
        """Up to n readings after the acknowledged seq, from flash, oldest first:
        (seq, tag, unit, value, quality, ts_ms, ts_synced). Stops at readings not datable yet."""
        out = []  # type: list[tuple]
        seq = self.acked + 1
        for seg in self._segs:
            end = seg.base_seq + seg.count
            if seq >= end or seg.count == 0:
                continue
            first = seq - seg.base_seq
            k = min(n - len(out), seg.count - first)
            with open(self._path(seg.num), "rb") as f:
                f.seek(HDR_LEN + first * REC_LEN)
                raw = f.read(k * REC_LEN)
            table = self._tagsets[seg.tagset]
            for i in range(k):
                rel, ch, value, q = struct.unpack_from(REC, raw, i * REC_LEN)
                ts, synced = self._ts(seg, rel)
                if ts is None:
                    return out
                quality = QUALITIES[q]
                value = None if q == 2 else float("%.7g" % value)  # float32 back to its decimal
                out.append((seq, table[ch][0], table[ch][1], value, quality, ts, synced))
                seq += 1
            if len(out) >= n:
                break
        return out

    def ack(self, seq):
        """The broker acknowledged every reading up to `seq`: delete segments wholly sent."""
        if seq <= self.acked:
            return
        self.acked = seq
        changed = False
        while len(self._segs) > 1 and self._segs[0].base_seq + self._segs[0].count - 1 <= seq:
            os.remove(self._path(self._segs.pop(0).num))
            changed = True
        if changed:
            self._save_state()  # persisted per deleted segment; a repeat after a power cut is idempotent downstream

    def close(self):
        self.flush()
        self._save_state()
