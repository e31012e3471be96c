# Device-side test: the firmware's Modbus RTU master on a real serial line (a socat pty) against
# a real pymodbus RTU server. The pty stands in for machine.UART. mp_rtu.py PTY
import asyncio
import select
import sys

import check
from modbus_rtu import RTUMaster, poll_device


class PtyUART:
    # machine.UART's write/any/read over a pseudo-terminal
    def __init__(self, path):
        self.f = open(path, "r+b")  # noqa: SIM115 - open for the life of the UART
        self.poll = select.poll()
        self.poll.register(self.f, select.POLLIN)

    def write(self, data):
        return self.f.write(data)

    def any(self):
        return 1 if self.poll.poll(0) else 0

    def read(self, n):
        return self.f.read(min(n, 1))  # poll promised one byte; more could block


m = RTUMaster(PtyUART(sys.argv[1]), 19200)
dev = {
    "addr": 3,
    "timeout_ms": 500,
    "blocks": [
        [3, 0, 3, [[0, "float32", "bl", 1.0, 0.0, 0], [2, "int16", "bb", 0.01, 0.0, 1]]],
        [4, 10, 2, [[0, "uint32", "bb", 1.0, 0.0, 2]]],
    ],
}
got = asyncio.run(poll_device(m, dev))
check.eq(got, [(0, 42.5), (1, -3.5), (2, 123456.0)], "values from the pymodbus server")
absent = asyncio.run(poll_device(m, {"addr": 9, "timeout_ms": 200, "blocks": [[3, 0, 1, [[0, "int16", "bb", 1.0, 0.0, 3]]]]}))
check.eq(absent, [(3, None)], "a unit that answers with an exception -> comm_error")
again = asyncio.run(poll_device(m, dev))
check.eq(again, got, "the line recovers: the next device poll is clean")
check.done("rtu")
