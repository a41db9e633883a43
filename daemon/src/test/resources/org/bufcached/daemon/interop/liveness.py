# Mixed WRITE/TRIM/WRITE_ZEROES/READ of 256 KiB over a hot 1 MiB region at a fixed
# queue depth, for a fixed time; prints how many completed, how many failed, and
# the longest time without any completion while requests were in flight.
import nbd, random, sys, time

uri, seconds, depth = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
h = nbd.NBD()
h.connect_uri(uri)
REGION, LENGTH = 1 << 20, 256 * 1024
rnd = random.Random(1)
buffers = [nbd.Buffer(LENGTH) for _ in range(depth)]
free = list(range(depth))
state = {"completed": 0, "errors": 0, "last": time.monotonic(), "gap": 0.0}
payload = nbd.Buffer.from_bytearray(bytearray(rnd.randbytes(LENGTH)))

def done(slot):
    def cb(err):
        now = time.monotonic()
        state["gap"] = max(state["gap"], now - state["last"])
        state["last"] = now
        state["completed"] += 1
        if err.value != 0:
            state["errors"] += 1
        free.append(slot)
        return 1
    return cb

def submit():
    slot = free.pop()
    offset = rnd.randrange(0, REGION - LENGTH + 1, 4096)
    op = rnd.randrange(4)
    if op == 0:
        h.aio_pwrite(payload, offset, completion=done(slot))
    elif op == 1:
        h.aio_trim(LENGTH, offset, completion=done(slot))
    elif op == 2:
        h.aio_zero(LENGTH, offset, completion=done(slot))
    else:
        h.aio_pread(buffers[slot], offset, completion=done(slot))

end = time.monotonic() + seconds
state["last"] = time.monotonic()
while time.monotonic() < end:
    while free:
        submit()
    h.poll(1)
    state["gap"] = max(state["gap"], time.monotonic() - state["last"])
# Drain, bounded: a stall shows as a long gap.
drain_end = time.monotonic() + 30
while h.aio_in_flight() > 0 and time.monotonic() < drain_end:
    h.poll(1)
    state["gap"] = max(state["gap"], time.monotonic() - state["last"])
print("completed=%d errors=%d in_flight=%d max_gap=%.3f" % (state["completed"], state["errors"],
      h.aio_in_flight(), state["gap"]))
sys.stdout.flush()
h.shutdown()
