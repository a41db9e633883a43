#!/usr/bin/env bash
# fio matrix: bufcached (default cache configuration) against `nbdkit file`, both
# serving the same 1 GiB file over Unix sockets, with fio's nbd engine.
#
#   bench/fio-matrix.sh [ROUNDS]        (default 3 rounds)
#
# Builds nothing: needs daemon/target/bufcached.jar (or BUFCACHED_JAR=PATH), fio
# with ioengine=nbd, nbdkit, and /usr/bin/python3 with python3-libnbd.
# Environment: RUNTIME (s per case, default 10), RAMP (warm-up s, default 2),
# FLUSH_SECONDS (default 30), BENCH_DIR (parent of the temporary directory).
#
# Each round runs every case against both servers, the order of the servers
# alternating from round to round; the summary gives each case's median IOPS
# over the rounds and the ratio bufcached/nbdkit. Then FLUSH latency: 4k random
# writes at queue depth 16 on one connection with a FLUSH on that connection
# every second, median and p99 of the FLUSH round trip, for both servers; and
# the resident anonymous memory (RssAnon) of both servers at the end.
set -euo pipefail

ROUNDS=${1:-3}
RUNTIME=${RUNTIME:-10}
RAMP=${RAMP:-2}
FLUSH_SECONDS=${FLUSH_SECONDS:-30}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=${BUFCACHED_JAR:-$ROOT/daemon/target/bufcached.jar}
PY=/usr/bin/python3
CASES=("randread 4k 32 1" "randwrite 4k 32 1" "read 1M 8 1" "write 1M 8 1" "randread 4k 16 2")

die() { echo "fio-matrix: $*" >&2; exit 1; }
[ -f "$JAR" ] || die "no daemon jar at $JAR (run mvn package first, or set BUFCACHED_JAR)"
command -v fio >/dev/null || die "fio is not installed"
fio --enghelp=nbd >/dev/null 2>&1 || die "this fio has no nbd engine"
command -v nbdkit >/dev/null || die "nbdkit is not installed"
"$PY" -c 'import nbd' 2>/dev/null || die "$PY lacks the nbd module (python3-libnbd)"
JAVA=${JAVA:-java}

TMP=$(mktemp -d "${BENCH_DIR:-/tmp}/fio-matrix.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

IMG=$TMP/disk.img
BSOCK=$TMP/bufcached.sock
KSOCK=$TMP/nbdkit.sock
START=$(date +%s)

echo "== fio-matrix: $(date -u +%FT%TZ), $(nproc) CPUs, $(uname -r), fio $(fio --version), $(nbdkit --version 2>&1 | head -1)"
echo "== jar $JAR; $ROUNDS rounds, ${RUNTIME}s per case after ${RAMP}s warm-up; files in $TMP"
echo "== creating a 1 GiB file of random data"
head -c 1G /dev/urandom >"$IMG"
sync "$IMG"

cat >"$TMP/bufcached.yaml" <<EOF
listen:
  tcp: []
  unix: ["$BSOCK"]
exports:
  - name: disk
    path: "$IMG"
metrics:
  enabled: false
EOF
"$JAVA" -jar "$JAR" --config "$TMP/bufcached.yaml" >"$TMP/bufcached.log" 2>&1 </dev/null &
BPID=$!
PIDS+=("$BPID")
nbdkit --foreground --unix "$KSOCK" file file="$IMG" >"$TMP/nbdkit.log" 2>&1 </dev/null &
KPID=$!
PIDS+=("$KPID")

wait_socket() { # socket pid name
    for _ in $(seq 300); do
        if [ -S "$1" ] && "$PY" -c "import nbd,sys; h=nbd.NBD(); h.connect_uri(sys.argv[1]); h.shutdown()" \
                "nbd+unix:///disk?socket=$1" 2>/dev/null; then
            return 0
        fi
        kill -0 "$2" 2>/dev/null || { cat "$TMP/$3.log" >&2; die "$3 exited"; }
        sleep 0.1
    done
    die "$3 not serving on $1 after 30 s"
}
wait_socket "$BSOCK" "$BPID" bufcached
wait_socket "$KSOCK" "$KPID" nbdkit
URI_bufcached="nbd+unix:///disk?socket=$BSOCK"
URI_nbdkit="nbd+unix:///disk?socket=$KSOCK"

run_case() { # uri rw bs qd jobs -> prints IOPS (reads + writes over all jobs)
    local job=$TMP/job.fio out=$TMP/out.json
    cat >"$job" <<EOF
[global]
ioengine=nbd
uri=$1
time_based=1
ramp_time=$RAMP
runtime=$RUNTIME
group_reporting=1
[job]
rw=$2
bs=$3
iodepth=$4
numjobs=$5
EOF
    if ! fio --output-format=json --output="$out" "$job" >"$TMP/fio.err" 2>&1; then
        echo "fio failed:" >&2
        cat "$TMP/fio.err" >&2
        echo 0
        return
    fi
    "$PY" - "$out" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
d = json.loads(text[text.index("{"):])
j = d["jobs"][0]
print("%.0f" % (j["read"]["iops"] + j["write"]["iops"]))
EOF
}

RESULTS=$TMP/results.txt
: >"$RESULTS"
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then order="bufcached nbdkit"; else order="nbdkit bufcached"; fi
    echo "== round $round ($order)"
    for c in "${CASES[@]}"; do
        read -r rw bs qd nj <<<"$c"
        for server in $order; do
            uri_var=URI_$server
            iops=$(run_case "${!uri_var}" "$rw" "$bs" "$qd" "$nj")
            name="$rw-$bs-qd$qd-x$nj"
            printf '   %-22s %-10s %10s IOPS\n' "$name" "$server" "$iops"
            echo "$name $server $round $iops" >>"$RESULTS"
        done
        kill -0 "$BPID" 2>/dev/null || { tail -50 "$TMP/bufcached.log"; die "bufcached died"; }
    done
done

echo
echo "== median IOPS over $ROUNDS rounds"
"$PY" - "$RESULTS" <<'EOF'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
cases = []
for r in rows:
    if r[0] not in cases:
        cases.append(r[0])
print("%-22s %12s %12s %8s" % ("case", "bufcached", "nbdkit", "ratio"))
for c in cases:
    med = {}
    for s in ("bufcached", "nbdkit"):
        v = [float(r[3]) for r in rows if r[0] == c and r[1] == s]
        med[s] = statistics.median(v) if v else 0.0
    ratio = med["bufcached"] / med["nbdkit"] if med["nbdkit"] else float("nan")
    print("%-22s %12.0f %12.0f %8.2f" % (c, med["bufcached"], med["nbdkit"], ratio))
EOF

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
for server in bufcached nbdkit; do
    uri_var=URI_$server
    printf '   %-10s %s\n' "$server" "$("$PY" "$TMP/flushlat.py" "${!uri_var}" "$FLUSH_SECONDS")"
done

echo
echo "== memory at the end"
rss() { awk '/^(RssAnon|RssFile|VmHWM):/ {printf "%s %s %s  ", $1, $2, $3}' "/proc/$1/status"; }
printf '   %-10s %s\n' bufcached "$(rss "$BPID")"
printf '   %-10s %s\n' nbdkit "$(rss "$KPID")"
echo "== done in $(( $(date +%s) - START )) s"
