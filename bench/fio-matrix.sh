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
# MEMORY_SECONDS (default 30), BENCH_DIR (parent of the temporary directory),
# CASES (space-separated rw:bs:qd:jobs, default the five below).
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

ROUNDS=${1:-3}
RUNTIME=${RUNTIME:-10}
RAMP=${RAMP:-2}
FLUSH_SECONDS=${FLUSH_SECONDS:-30}
MEMORY_SECONDS=${MEMORY_SECONDS:-30}
ENGINE=${ENGINE:-auto}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=${BUFCACHED_JAR:-$ROOT/daemon/target/bufcached.jar}
PY=/usr/bin/python3
read -r -a CASES <<<"${CASES:-randread:4k:32:1 randwrite:4k:32:1 read:1M:8:1 write:1M:8:1 randread:4k:16:2}"
SERVERS=(bufcached nbdkit null)

die() { echo "fio-matrix: $*" >&2; exit 1; }
[ -f "$JAR" ] || die "no daemon jar at $JAR (run mvn -B package first, or set BUFCACHED_JAR)"
command -v fio >/dev/null || die "fio is not installed"
fio --enghelp=nbd >/dev/null 2>&1 || die "this fio has no nbd engine"
command -v nbdkit >/dev/null || die "nbdkit is not installed"
"$PY" -c 'import nbd' 2>/dev/null || die "$PY lacks the nbd module (python3-libnbd)"

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
START=$(date +%s)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

echo "== fio-matrix: $(date -u +%FT%TZ), commit $COMMIT, $(nproc) CPUs, $(uname -r), fio $(fio --version), $(nbdkit --version 2>&1 | head -1)"
echo "== bufcached engine $ENGINE (bin/bufcached, default JVM flags); $ROUNDS rounds, ${RUNTIME}s per case after ${RAMP}s warm-up"
echo "== creating a 1 GiB file of random data"
head -c 1G /dev/urandom >"$IMG"
sync "$IMG"

SOCK_bufcached=$TMP/bufcached.sock
SOCK_nbdkit=$TMP/nbdkit.sock
SOCK_null=$TMP/null.sock
cat >"$TMP/bufcached.yaml" <<EOF
listen:
  tcp: []
  unix: ["$SOCK_bufcached"]
exports:
  - name: disk
    path: "$IMG"
metrics:
  enabled: false
EOF
BUFCACHED_JAR="$JAR" "$ROOT/bin/bufcached" --config "$TMP/bufcached.yaml" --io-engine "$ENGINE" \
    >"$TMP/bufcached.log" 2>&1 </dev/null &
PID_bufcached=$!
PIDS+=("$PID_bufcached")
nbdkit --foreground --unix "$SOCK_nbdkit" file file="$IMG" >"$TMP/nbdkit.log" 2>&1 </dev/null &
PID_nbdkit=$!
PIDS+=("$PID_nbdkit")
nbdkit --foreground --unix "$SOCK_null" null size=1G >"$TMP/null.log" 2>&1 </dev/null &
PID_null=$!
PIDS+=("$PID_null")

wait_socket() { # server
    local sock_var=SOCK_$1 pid_var=PID_$1
    for _ in $(seq 300); do
        if [ -S "${!sock_var}" ] && "$PY" -c "import nbd,sys; h=nbd.NBD(); h.connect_uri(sys.argv[1]); h.shutdown()" \
                "nbd+unix:///disk?socket=${!sock_var}" 2>/dev/null; then
            return 0
        fi
        kill -0 "${!pid_var}" 2>/dev/null || { cat "$TMP/$1.log" >&2; die "$1 exited"; }
        sleep 0.1
    done
    die "$1 not serving on ${!sock_var} after 30 s"
}
for s in "${SERVERS[@]}"; do wait_socket "$s"; done
# The server's JVM is the child of bin/bufcached's exec: the same pid.
grep -m1 "I/O engine" "$TMP/bufcached.log" | sed 's/^.* - /== bufcached: /'

uri() { local v=SOCK_$1; echo "nbd+unix:///disk?socket=${!v}"; }

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
    shift_by=$(( (round - 1) % ${#SERVERS[@]} ))
    order=("${SERVERS[@]:shift_by}" "${SERVERS[@]:0:shift_by}")
    echo "== round $round (${order[*]})"
    for c in "${CASES[@]}"; do
        IFS=: read -r rw bs qd nj <<<"$c"
        for server in "${order[@]}"; do
            iops=$(run_case "$(uri "$server")" "$rw" "$bs" "$qd" "$nj")
            name="$rw-$bs-qd$qd-x$nj"
            printf '   %-22s %-10s %10s IOPS\n' "$name" "$server" "$iops"
            echo "$name $server $round $iops" >>"$RESULTS"
        done
        kill -0 "$PID_bufcached" 2>/dev/null || { tail -50 "$TMP/bufcached.log"; die "bufcached died"; }
    done
done

echo
echo "== median IOPS over $ROUNDS rounds (engine $ENGINE, commit $COMMIT)"
"$PY" - "$RESULTS" <<'EOF'
import math, sys, statistics
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
cases = []
for r in rows:
    if r[0] not in cases:
        cases.append(r[0])
print("%-22s %11s %11s %11s %8s %9s %9s" % ("case", "bufcached", "nbdkit", "null", "ratio", "bc/null", "kit/null"))
ratios = []
for c in cases:
    med = {}
    for s in ("bufcached", "nbdkit", "null"):
        v = [float(r[3]) for r in rows if r[0] == c and r[1] == s]
        med[s] = statistics.median(v) if v else 0.0
    ratio = med["bufcached"] / med["nbdkit"] if med["nbdkit"] else float("nan")
    ratios.append(ratio)
    print("%-22s %11.0f %11.0f %11.0f %8.2f %9.2f %9.2f" % (c, med["bufcached"], med["nbdkit"], med["null"], ratio,
          med["bufcached"] / med["null"] if med["null"] else float("nan"),
          med["nbdkit"] / med["null"] if med["null"] else float("nan")))
good = [r for r in ratios if r > 0 and not math.isnan(r)]
if good:
    print("%-22s %44s %.2f" % ("geomean", "", math.exp(sum(math.log(r) for r in good) / len(good))))
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
for server in bufcached nbdkit nbdkit bufcached; do
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
