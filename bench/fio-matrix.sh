#!/usr/bin/env bash
# fio matrix: bufcached (default configuration, started as the README starts it:
# bin/bufcached) against `nbdkit file` serving the same 1 GiB file, and `nbdkit
# null` (no storage at all: the protocol ceiling of this machine), all over Unix
# sockets with fio's nbd engine.
#
#   bench/fio-matrix.sh [ROUNDS]        (default 3 rounds)
#
# Builds nothing: needs daemon/target/bufcached.jar (mvn -B package), fio with
# ioengine=nbd, nbdkit, and /usr/bin/python3 with python3-libnbd.
# Environment: ENGINE (bufcached's --io-engine, default auto), RUNTIME (s per case,
# default 10), RAMP (warm-up s, default 2), FLUSH_SECONDS (default 30),
# MEMORY_SECONDS (default 30), SIZE (the file, default 1G), BENCH_DIR (parent of
# the temporary directory), CASES (space-separated rw:bs:qd:jobs, default the five
# below). A quick check that it runs: SIZE=16M RUNTIME=1 RAMP=0 FLUSH_SECONDS=2
# MEMORY_SECONDS=1 CASES=randread:4k:32:1 bench/fio-matrix.sh 1
#
# Each round runs every case against the three servers, their order rotating
# from round to round; the summary gives each case's median IOPS over the rounds,
# the ratio bufcached/nbdkit, and how close each server gets to nbdkit null. Then
# FLUSH latency: 4k random writes at queue depth 16 on one connection with a
# FLUSH on that connection every second, median and p99 of the FLUSH round trip,
# bufcached and nbdkit file alternating. Then memory: peak RssAnon of bufcached
# and nbdkit (sampled every 0.2 s) under MEMORY_SECONDS of mixed load, 4k random
# reads and writes at QD32 plus 1M sequential writes at QD8.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

ROUNDS=${1:-3}
FLUSH_SECONDS=${FLUSH_SECONDS:-30}
MEMORY_SECONDS=${MEMORY_SECONDS:-30}
read -r -a CASES <<<"${CASES:-randread:4k:32:1 randwrite:4k:32:1 read:1M:8:1 write:1M:8:1 randread:4k:16:2}"
SERVERS=(bufcached nbdkit null)

[ -f "$JAR" ] || die "no daemon jar at $JAR (run mvn -B package first, or set BUFCACHED_JAR)"
need fio nbdkit
bench_init
START=$(date +%s)

banner
echo "== bufcached engine $ENGINE (bin/bufcached, default JVM flags); $ROUNDS rounds, ${RUNTIME}s per case after ${RAMP}s warm-up"
make_image

start_bufcached --io-engine "$ENGINE"
start nbdkit nbdkit --foreground --unix "$(sock nbdkit)" file file="$IMG"
start null nbdkit --foreground --unix "$(sock null)" null size="$SIZE"
wait_serving "${SERVERS[@]}"
grep -m1 "I/O engine" "$TMP/bufcached.log" | sed 's/^.* - /== bufcached: /'

run_rounds "$ROUNDS"
echo
echo "== median IOPS over $ROUNDS rounds (engine $ENGINE, commit $COMMIT)"
median_table "${SERVERS[@]}"

cat >"$TMP/flushlat.py" <<'EOF'
# 4k random writes at queue depth 16 on one connection, a FLUSH on the same
# connection every second; prints the FLUSH round trips (submit -> completion).
import os, random, sys, time
import nbd
uri, seconds = sys.argv[1], float(sys.argv[2])
h = nbd.NBD()
h.connect_uri(uri)
size = h.get_size()
buf = nbd.Buffer.from_bytearray(bytearray(os.urandom(4096)))
rnd = random.Random(1)
writes = 0
lat = []
flush_at = [None]
def done_write(err):
    global writes
    writes += 1
    return 1
def done_flush(err):
    lat.append(time.monotonic() - flush_at[0])
    flush_at[0] = None
    return 1
end = time.monotonic() + seconds
next_flush = time.monotonic() + 1.0
while time.monotonic() < end or h.aio_in_flight() > 0:
    now = time.monotonic()
    if now < end:
        if flush_at[0] is None and now >= next_flush:
            flush_at[0] = now
            next_flush += 1.0
            h.aio_flush(completion=done_flush)
        while h.aio_in_flight() < 16 + (flush_at[0] is not None):
            h.aio_pwrite(buf, rnd.randrange(size // 4096) * 4096, completion=done_write)
    h.poll(-1)
h.shutdown()
lat.sort()
ms = [x * 1000 for x in lat]
p = lambda q: ms[min(len(ms) - 1, max(0, int(round(q * len(ms) + 0.5)) - 1))]
print("flushes=%d writes=%d (%.0f/s) flush_ms median=%.2f p99=%.2f max=%.2f" % (
    len(ms), writes, writes / seconds, p(0.5), p(0.99), ms[-1]))
EOF

echo
echo "== FLUSH latency: ${FLUSH_SECONDS}s of 4k random writes (QD16) with a FLUSH every second, same connection"
for server in bufcached nbdkit nbdkit bufcached; do
    settle
    printf '   %-10s %s\n' "$server" "$("$PY" "$TMP/flushlat.py" "$(uri "$server")" "$FLUSH_SECONDS")"
done

echo
echo "== memory: peak RssAnon under ${MEMORY_SECONDS}s of 4k randrw QD32 plus 1M sequential writes QD8"
peak_rss() { # pid seconds -> peak RssAnon in KiB, sampled every 0.2 s
    local pid=$1 until=$(( $(date +%s) + $2 )) peak=0 v
    while [ "$(date +%s)" -lt "$until" ]; do
        v=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        [ "${v:-0}" -gt "$peak" ] && peak=$v
        sleep 0.2
    done
    echo "$peak"
}
for server in bufcached nbdkit; do
    pid_var=PID_$server
    cat >"$TMP/mixed.fio" <<EOF
[global]
ioengine=nbd
uri=$(uri "$server")
time_based=1
runtime=$MEMORY_SECONDS
[rw4k]
rw=randrw
bs=4k
iodepth=32
[seq1m]
rw=write
bs=1M
iodepth=8
EOF
    fio "$TMP/mixed.fio" >"$TMP/mixed-$server.out" 2>&1 &
    FIO=$!
    peak=$(peak_rss "${!pid_var}" "$MEMORY_SECONDS")
    wait "$FIO" || true
    printf '   %-10s peak RssAnon %d MiB; at the end: %s\n' "$server" $((peak / 1024)) \
        "$(awk '/^(RssAnon|RssFile|VmHWM):/ {printf "%s %s %s  ", $1, $2, $3}' "/proc/${!pid_var}/status")"
done
echo "== done in $(( $(date +%s) - START )) s"
