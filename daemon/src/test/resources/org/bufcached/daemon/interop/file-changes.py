# Cuts the export's backing file short, then replaces it, under a connected
# libnbd client; waits for the daemon to say so in its log each time and prints
# what each request got. argv: uri, backing file, daemon log.
import nbd, os, sys, time

uri, path, log = sys.argv[1], sys.argv[2], sys.argv[3]
MiB = 1 << 20

def wait_log(text):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(log, errors="replace") as f:
            if text in f.read():
                return
        time.sleep(0.02)
    sys.exit("daemon never logged %r" % text)

def attempt(what, call):
    try:
        call()
        print(what, "OK")
    except nbd.Error as e:
        print(what, "ERROR", e.errnum)
    sys.stdout.flush()

h = nbd.NBD()
h.connect_uri(uri)
h.pwrite(b"\x5a" * 65536, 6 * MiB)
assert h.pread(65536, 6 * MiB) == b"\x5a" * 65536  # now a cached block: the next read of it is a hit
os.truncate(path, 4 * MiB)
wait_log("shrank from")
attempt("read-past-new-end", lambda: h.pread(65536, 6 * MiB))
attempt("write-past-new-end", lambda: h.pwrite(b"\x01" * 4096, 7 * MiB))
attempt("read-before-new-end", lambda: h.pread(65536, 0))
attempt("write-before-new-end", lambda: h.pwrite(b"\x02" * 4096, MiB))

# Replaced: another file renamed over the path.
other = path + ".new"
with open(other, "wb") as f:
    f.truncate(8 * MiB)
os.rename(other, path)
wait_log("was replaced by another file")
attempt("write-after-replace", lambda: h.pwrite(b"\x03" * 4096, 2 * MiB))
attempt("flush-after-replace", lambda: h.flush())
h.shutdown()
print("done")
