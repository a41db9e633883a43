package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.interop.DaemonProcess.MiB;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * libnbd's Python binding (Debian python3-libnbd) driving the protocol directly:
 * handshake options, flags, block sizes, block status, structured and simple
 * replies, errors, and two connections sharing an export. Each script prints
 * {@code key value} lines that the test asserts on, and asserts details itself
 * (a failed Python assert exits 1 with the traceback in the failure message).
 */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class PythonLibnbdIT {
    @TempDir
    Path tmp;

    @BeforeEach
    void tools() {
        Tool.requirePythonNbd();
    }

    private DaemonProcess daemon() throws Exception {
        return DaemonProcess.builder(tmp.resolve("daemon"))
                .export("disk0", 64 * MiB, false, "the first disk")
                .export("ro", 16 * MiB, true, "read-only disk")
                .start();
    }

    private Tool.Result python(String name, String script, DaemonProcess d) {
        return Tool.python(tmp, name, PRELUDE + script, Tool.DEFAULT_TIMEOUT, d.socket().toString()).assertOk();
    }

    private static final String PRELUDE = """
            import errno, random, sys
            import nbd
            SOCK = sys.argv[1]

            def connect(name, structured=True):
                h = nbd.NBD()
                h.set_export_name(name)
                h.set_request_structured_replies(structured)
                h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
                h.connect_unix(SOCK)
                return h

            def expect_error(fn, want, what):
                try:
                    fn()
                except nbd.Error as e:
                    assert e.errnum == want, "%s: errno %s, want %s (%s)" % (what, e.errno, errno.errorcode[want], e)
                    print("error", what, e.errno)
                    return
                raise AssertionError("%s: no error, want %s" % (what, errno.errorcode[want]))

            """;

    @Test
    void handshakeOptionsListInfoAndMetaContext() throws Exception {
        try (DaemonProcess d = daemon()) {
            Tool.Result r = python("handshake.py", """
                    h = nbd.NBD()
                    h.set_opt_mode(True)
                    h.set_request_structured_replies(True)
                    h.connect_unix(SOCK)
                    assert h.aio_is_negotiating()
                    print("structured", h.get_structured_replies_negotiated())

                    exports = []
                    h.opt_list(lambda name, desc: exports.append((name, desc)) or 0)
                    for name, desc in exports:
                        print("list", name, "|", desc)

                    for name in ("disk0", "ro"):
                        h.set_export_name(name)
                        h.clear_meta_contexts()
                        h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
                        h.set_full_info(True)
                        h.opt_info()
                        print("info", name, h.get_size(), h.is_read_only(),
                              h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION),
                              h.get_export_description(),
                              h.get_block_size(nbd.SIZE_MINIMUM), h.get_block_size(nbd.SIZE_PREFERRED),
                              h.get_block_size(nbd.SIZE_MAXIMUM), sep="|")

                    # a context the server does not know is not negotiated, and is no error
                    h.set_export_name("disk0")
                    h.clear_meta_contexts()
                    h.add_meta_context("qemu:dirty-bitmap:nosuch")
                    h.opt_info()
                    print("unknown-context", h.can_meta_context("qemu:dirty-bitmap:nosuch"))

                    h.set_export_name("nosuch")
                    try:
                        h.opt_info()
                        print("info-nosuch", "accepted")
                    except nbd.Error as e:
                        print("info-nosuch", "refused")

                    h.set_export_name("disk0")
                    h.clear_meta_contexts()
                    h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
                    h.opt_go()
                    assert h.aio_is_ready()
                    print("go", h.get_size(), h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
                    print("flags", "flush", h.can_flush(), "fua", h.can_fua(), "trim", h.can_trim(),
                          "zero", h.can_zero(), "fast_zero", h.can_fast_zero(), "cache", h.can_cache(),
                          "df", h.can_df(), "multi_conn", h.can_multi_conn(), "read_only", h.is_read_only())
                    h.shutdown()

                    r = connect("ro")
                    print("ro-flags", "read_only", r.is_read_only(), "trim", r.can_trim(), "zero", r.can_zero(),
                          "flush", r.can_flush())
                    r.shutdown()
                    """, d);
            assertThat(r.stdout()).contains(
                    "structured True",
                    "list disk0 | the first disk",
                    "list ro | read-only disk",
                    "info|disk0|" + 64 * MiB + "|False|True|the first disk|1|4096|67108864",
                    "info|ro|" + 16 * MiB + "|True|True|read-only disk|1|4096|67108864",
                    "unknown-context False",
                    "info-nosuch refused",
                    "go " + 64 * MiB + " True",
                    "flags flush True fua True trim True zero True fast_zero True cache True df True multi_conn True"
                            + " read_only False",
                    "ro-flags read_only True trim False zero False flush True");
        }
    }

    @Test
    void blockStatusAndStructuredReads() throws Exception {
        try (DaemonProcess d = daemon()) {
            Tool.Result r = python("status.py", """
                    h = connect("disk0")
                    assert h.get_structured_replies_negotiated()
                    assert h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
                    rnd = random.Random(5)
                    data = rnd.randbytes(1 << 20)
                    h.pwrite(data, 2 << 20)             # data at [2 MiB, 3 MiB)
                    h.pwrite(b"z" * 4096, 10 << 20)     # and one 4 KiB block at 10 MiB

                    extents = []
                    def status(metacontext, offset, entries, err):
                        assert metacontext == nbd.CONTEXT_BASE_ALLOCATION, metacontext
                        assert getattr(err, "value", err) == 0, err   # an int box in libnbd's binding
                        extents.extend(zip(entries[0::2], entries[1::2]))
                        return 0
                    h.block_status(12 << 20, 0, status)
                    pos = 0
                    for length, flags in extents:
                        kind = ("hole" if flags & nbd.STATE_HOLE else "") + ("zero" if flags & nbd.STATE_ZERO else "")
                        kind = kind or "data"
                        print("extent", pos, length, kind)
                        pos += length
                    assert pos <= 12 << 20 and pos > 0

                    # a block status request for one byte of data
                    one = []
                    h.block_status(1, (2 << 20) + 5, lambda m, o, e, err: one.extend(e) or 0)
                    print("one-byte", one[1])

                    chunks = []
                    buf = h.pread_structured(1 << 20, 2 << 20,
                                             lambda b, off, status, err: chunks.append((off, len(b), status)) or 0)
                    assert bytes(buf) == data, "pread_structured data differs"
                    covered = sum(n for _, n, _ in chunks)
                    assert covered == 1 << 20, chunks
                    print("chunks-data", all(s == nbd.READ_DATA for _, _, s in chunks), len(chunks) > 0)

                    # a read over data and hole: DATA chunks (and perhaps HOLE chunks) that cover it once
                    chunks.clear()
                    buf = h.pread_structured(2 << 20, (2 << 20) + (512 << 10),
                                             lambda b, off, status, err: chunks.append((off, len(b), status)) or 0)
                    assert bytes(buf[: 512 << 10]) == data[512 << 10:]
                    assert bytes(buf[512 << 10:]) == bytes((2 << 20) - (512 << 10))
                    spans = sorted((o, o + n) for o, n, _ in chunks)
                    pos = (2 << 20) + (512 << 10)
                    for a, b in spans:
                        assert a == pos, spans
                        pos = b
                    assert pos == (4 << 20) + (512 << 10), spans
                    print("mixed-kinds", sorted(set("DATA" if s == nbd.READ_DATA else "HOLE" for _, _, s in chunks)))
                    h.shutdown()
                    """, d);
            assertThat(r.stdout()).contains(
                    "extent 0 2097152 holezero",
                    "extent 2097152 1048576 data",
                    "extent 3145728 7340032 holezero",
                    "extent 10485760 4096 data",
                    "one-byte 0",
                    "chunks-data True True");
            assertThat(r.stdout()).containsPattern("mixed-kinds \\['DATA'(, 'HOLE')?\\]");
        }
    }

    @Test
    void errorsComeFromTheServer() throws Exception {
        try (DaemonProcess d = daemon()) {
            Tool.Result r = python("errors.py", """
                    h = connect("disk0")
                    size = h.get_size()
                    # libnbd checks bounds itself by default; this one is the client's check
                    expect_error(lambda: h.pread(10, size - 5), errno.EINVAL, "client-past-end")
                    # with the client's checks off the request reaches the server
                    h.set_strict_mode(0)
                    expect_error(lambda: h.pread(10, size - 5), errno.EINVAL, "read-past-end")
                    expect_error(lambda: h.pread(1, size), errno.EINVAL, "read-at-end")
                    assert len(h.pread(5, size - 5)) == 5
                    h.pwrite(b"still usable", 0)
                    assert h.pread(12, 0) == b"still usable"
                    h.shutdown()

                    r = connect("ro")
                    assert r.is_read_only()
                    expect_error(lambda: r.pwrite(b"x" * 10, 0), errno.EPERM, "client-write-readonly")
                    r.set_strict_mode(0)
                    expect_error(lambda: r.pwrite(b"x" * 10, 0), errno.EPERM, "write-readonly")
                    expect_error(lambda: r.trim(4096, 0), errno.EPERM, "trim-readonly")
                    expect_error(lambda: r.zero(4096, 0), errno.EPERM, "zero-readonly")
                    assert r.pread(4096, 0) == bytes(4096)
                    r.shutdown()

                    # simple replies only: reads and errors still work
                    s = connect("disk0", structured=False)
                    assert not s.get_structured_replies_negotiated()
                    assert not s.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
                    print("simple-df", s.can_df())
                    s.pwrite(bytes(range(256)) * 64, 8192)
                    assert s.pread(16384, 8192) == bytes(range(256)) * 64
                    assert s.pread(1 << 20, 1 << 20) == bytes(1 << 20)
                    assert s.pread(12, 0) == b"still usable"
                    s.set_strict_mode(0)
                    expect_error(lambda: s.pread(10, size - 5), errno.EINVAL, "simple-read-past-end")
                    assert s.pread(3, 8193) == bytes([1, 2, 3])
                    print("simple-reads ok")
                    s.shutdown()
                    """, d);
            assertThat(r.stdout()).contains(
                    "error client-past-end EINVAL",
                    "error read-past-end EINVAL",
                    "error read-at-end EINVAL",
                    "error write-readonly EPERM",
                    "error trim-readonly EPERM",
                    "error zero-readonly EPERM",
                    "simple-df False",
                    "error simple-read-past-end EINVAL",
                    "simple-reads ok");
        }
    }

    @Test
    void requestsOfAbout48MiBAsInNbdsIntegrityhugeTest() throws Exception {
        // nbd's test client replays traces with requests of up to ~48 MiB; the default maximum payload takes them.
        try (DaemonProcess d = DaemonProcess.builder(tmp.resolve("daemon")).export("big", 192 * MiB).start()) {
            Tool.Result r = python("huge.py", """
                    h = connect("big")
                    print("block-size-max", h.get_block_size(nbd.SIZE_MAXIMUM))
                    rnd = random.Random(48)
                    model = bytearray(h.get_size())
                    # three writes of 44-48 MiB at once, on disjoint ranges
                    bufs, cookies, off = [], [], 0
                    for i in range(3):
                        n = rnd.randrange(44 << 20, (48 << 20) + 1) & ~511
                        data = rnd.randbytes(n)
                        model[off:off + n] = data
                        buf = nbd.Buffer.from_bytearray(bytearray(data))
                        bufs.append(buf)
                        cookies.append(h.aio_pwrite(buf, off))
                        off += n + (1 << 20)
                    while h.aio_in_flight() > 0:
                        h.poll(-1)
                    for c in cookies:
                        assert h.aio_command_completed(c)  # raises nbd.Error if the server refused the write
                    # reads of 48 MiB over the written ranges and the gaps
                    for at in range(0, off, 48 << 20):
                        n = min(48 << 20, len(model) - at)
                        assert h.pread(n, at) == bytes(model[at:at + n]), "48 MiB read at %d" % at
                    print("huge ok", off)
                    h.shutdown()
                    """, d);
            assertThat(r.stdout()).contains("block-size-max 67108864", "huge ok");
        }
    }

    @Test
    void twoConnectionsSeeEachOthersWritesAfterFlush() throws Exception {
        try (DaemonProcess d = daemon()) {
            Tool.Result r = python("two.py", """
                    a = connect("disk0")
                    b = connect("disk0")
                    assert a.can_multi_conn() and b.can_multi_conn()
                    rnd = random.Random(11)
                    # interleaved writes into disjoint ranges: a owns even MiBs, b odd ones, unaligned pieces
                    expected = {}
                    for i in range(16):
                        h = a if i % 2 == 0 else b
                        off = i * (1 << 20) + rnd.randrange(0, 4096)
                        data = rnd.randbytes(rnd.randrange(1, 300000))
                        h.pwrite(data, off)
                        expected[off] = (data, i % 2)
                    a.flush()
                    b.flush()
                    for off, (data, owner) in expected.items():
                        reader = b if owner == 0 else a
                        got = reader.pread(len(data), off)
                        assert got == data, "reader %s misses %d bytes at %d" % ("ab"[1 - owner], len(data), off)
                    print("cross-reads", len(expected))

                    # in flight at the same time on both connections
                    bufs = []
                    for i in range(8):
                        buf = nbd.Buffer.from_bytearray(bytearray([i + 1]) * 65536)
                        bufs.append(buf)
                        (a if i % 2 == 0 else b).aio_pwrite(buf, (32 << 20) + i * 65536)
                    for h in (a, b):
                        while h.aio_in_flight() > 0:
                            h.poll(-1)
                    a.flush(); b.flush()
                    got = b.pread(8 * 65536, 32 << 20)
                    assert got == b"".join(bytes([i + 1]) * 65536 for i in range(8))
                    print("aio", "ok")
                    a.shutdown(); b.shutdown()
                    """, d);
            assertThat(r.stdout()).contains("cross-reads 16", "aio ok");
        }
    }
}
