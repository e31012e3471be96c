# Runs at every boot after boot.py. Kept tiny: everything lives in start.py and node.py so a syntax error
# there shows in the log instead of leaving the board in a reset loop without a message.
# The telemetry buffer is allocated first, while the heap is still in one piece (node.py).
import gc

gc.collect()
tx = bytearray(2048)  # ~15 readings; config mqtt.batch is 10

import start  # noqa: E402

start.main(tx=tx)
