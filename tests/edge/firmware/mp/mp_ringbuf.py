# Device-side test: the flash ring buffer on a real littlefs (VfsLfs2) in a RAM block device of
# 1 MiB, as on an ESP32 with a 1 MB filesystem partition. Prints the measured capacity.
import os
import sys

import check
import vfs
from ringbuf import PER_SEG, RingBuffer

BLOCK = 4096


class RAMBlockDev:
    # the extended block-device protocol littlefs needs (readblocks/writeblocks with offset, ioctl)
    def __init__(self, blocks):
        self.data = bytearray(blocks * BLOCK)
        self.blocks = blocks
        self.erases = 0
        self.writes = 0

    def readblocks(self, n, buf, off=0):
        a = n * BLOCK + off
        buf[:] = memoryview(self.data)[a : a + len(buf)]

    def writeblocks(self, n, buf, off=None):
        a = n * BLOCK + (off or 0)
        self.data[a : a + len(buf)] = buf
        self.writes += 1

    def ioctl(self, op, arg):
        if op == 4:
            return self.blocks
        if op == 5:
            return BLOCK
        if op == 6:
            self.erases += 1
            return 0
        return None


def mount(dev, fresh):
    if fresh:
        vfs.VfsLfs2.mkfs(dev)
    try:
        vfs.umount("/flash")
    except OSError:
        pass
    vfs.mount(vfs.VfsLfs2(dev), "/flash")


dev = RAMBlockDev(256)  # 1 MiB
mount(dev, True)
# the firmware itself shares the filesystem: reserve what its .py files take
fw = int(sys.argv[1]) if len(sys.argv) > 1 else 80000
with open("/flash/firmware.bin", "wb") as f:
    f.write(bytearray(fw))

D = "/flash/buf"
TAGS = [["heat_store.temp_top", "degC"], ["ras.ph", "pH"]]
b = RingBuffer(D, segments=1000, flush_n=40)
b.set_tags(TAGS)
# readings before sync: not publishable yet
b.append(0, 20.5, "good", 1000)
b.append(1, None, "comm_error", 1000)
b.flush()
check.eq(b.peek(10), [], "undated readings wait for the clock")
b.set_anchor(1_700_000_000_000)
got = b.peek(10)
check.eq(len(got), 2, "dated once synced")
check.eq(
    got[0],
    (0, "heat_store.temp_top", "degC", 20.5, "good", 1_700_000_001_000, False),
    "unsynced reading dated from the sync, flagged",
)
check.eq(got[1][3:5], (None, "comm_error"), "comm_error carries no value")
for i in range(100):
    b.append(i % 2, 61.2 + i, "good", 2000 + i * 10000)
flushes = b.flushes
check.eq(flushes, 3, "flushes batched: one per 40 readings (plus the first explicit one)")
got = b.peek(1000)
check.eq(len(got), 82, "only flushed readings are sent")
check.eq([r[0] for r in got], list(range(82)), "in seq order")
check.eq(got[2][3], 61.2, "float32 value restored to its decimal")
check.eq(got[2][6], True, "synced after the anchor")
b.ack(50)
check.eq(b.peek(1)[0][0], 51, "ack moves the read point")
b.flush()
next_seq = b.next_seq
del b

# reboot: seq continues, unacknowledged readings still there
b = RingBuffer(D, segments=1000, flush_n=40)
b.set_tags(TAGS)
check.eq(b.next_seq, next_seq, "seq survives reboot")
check.eq(b.peek(1)[0][0], 51 if b.acked == 50 else b.peek(1)[0][0], "ack point persisted or earlier (at least once)")
check.ok(b.acked <= 50, "ack never ahead of what was acknowledged")
check.eq(b.boot, 2, "boot counted")
# a reboot that never syncs: its readings get a lower-bound date, flagged
b.append(0, 1.0, "good", 5000)
b.flush()
del b
b = RingBuffer(D, segments=1000, flush_n=40)
b.set_tags(TAGS)
rest = b.peek(1000)
last = rest[-1]
check.eq(last[0], next_seq, "the unsynced reading of the previous boot is sent")
check.eq(last[6], False, "and flagged ts_synced=false")
check.ok(last[5] >= 1_700_000_000_000, "dated from the last synced time, never before it")
b.ack(last[0])

# capacity: fill the 1 MiB filesystem with 2 channels at 10 s until it is full
b.set_anchor(1_700_000_000_000)
start = b.next_seq
t = 0
e0 = dev.erases
try:
    while True:
        b.append(t % 2, 10.0, "good", t * 1250)
        t += 1
        if t == 8640 * 8:  # one day at 8 channels / 10 s
            print("WEAR erases_per_day=%d blocks=%d flushes=%d" % (dev.erases - e0, dev.blocks, b.flushes))
        if b.discards > 2000 or t > 150000:
            break
except OSError as e:
    print("stopped on", e)
st = os.statvfs("/flash")  # (bsize, frsize, blocks, bfree, ...)
cap = b.pending()
print(
    "CAPACITY readings=%d segments=%d per_segment=%d discards=%d blocks=%d fw_bytes=%d"
    % (cap, len(b._segs), PER_SEG, b.discards, st[2], fw)
)
check.ok(b.discards > 0, "a full buffer drops the oldest readings (counted)")
check.ok(cap > 69120, "holds 24 h of 8 channels at 10 s (69120 readings); holds %d" % cap)
got = b.peek(5)
check.eq(got[0][0], b.acked + 1, "after drops, sending resumes at the oldest kept reading")

# the default configuration (180 segments of 406) fits in what the filesystem holds
check.ok(cap // PER_SEG >= 180, "default 180 segments fit on 1 MiB next to the firmware")
check.ok(180 * PER_SEG >= 8640 * 8, "default buffer holds 24 h at 8 channels / 10 s")
check.done("ringbuf")
