# shellcheck shell=bash
# What the bench scripts share, sourced after `set -euo pipefail`, then `need`
# and `bench_init`: starting servers on Unix sockets in a temporary directory
# that goes away on exit with them, waiting until they serve, running fio's nbd
# engine over rounds whose server order rotates, and the table of medians.
#
# Servers are named (bufcached, nbdkit, null, ...): server NAME listens on
# $(sock NAME), logs to $TMP/NAME.log and has its pid in PID_NAME. `uri NAME` is
# its NBD URI; a script that serves otherwise (TLS) defines its own uri after
# sourcing this file.
#
# Environment: RUNTIME (s per case, default 10), RAMP (warm-up s, default 2),
# ENGINE (bufcached's --io-engine, default auto), SIZE (the test file's size,
# default 1G; smaller for a quick check), BENCH_DIR (parent of the temporary
# directory), BUFCACHED_JAR.

RUNTIME=${RUNTIME:-10}
RAMP=${RAMP:-2}
ENGINE=${ENGINE:-auto}
SIZE=${SIZE:-1G}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR=${BUFCACHED_JAR:-$ROOT/daemon/target/bufcached.jar}
PY=/usr/bin/python3
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
BENCH=$(basename "$0" .sh)
PIDS=()

die() { echo "$BENCH: $*" >&2; exit 1; }

need() { # command...: these, then fio's nbd engine and python3-libnbd, which every bench script runs
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null || die "$c is not installed"
    done
    fio --enghelp=nbd >/dev/null 2>&1 || die "this fio has no nbd engine"
    "$PY" -c 'import nbd' 2>/dev/null || die "$PY lacks the nbd module (python3-libnbd)"
}

bench_init() { # makes $TMP, removed on exit once the servers started in it are stopped
    TMP=$(mktemp -d "${BENCH_DIR:-/tmp}/$BENCH.XXXXXX")
    IMG=$TMP/disk.img
    RESULTS=$TMP/results.txt
    trap cleanup EXIT
    trap 'exit 130' INT TERM
}

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}

banner() {
    echo "== $BENCH: $(date -u +%FT%TZ), commit $COMMIT, $(nproc) CPUs, $(uname -r), fio $(fio --version)," \
        "$(nbdkit --version 2>&1 | head -1)"
}

make_image() { # $IMG: SIZE of random data, on disk before any server maps it
    echo "== creating a $SIZE file of random data"
    head -c "$SIZE" /dev/urandom >"$IMG"
    sync "$IMG"
}

sock() { echo "$TMP/$1.sock"; }

uri() { echo "nbd+unix:///disk?socket=$(sock "$1")"; }

start() { # name command...: runs the command in the background, its output in $TMP/NAME.log
    local name=$1
    shift
    "$@" >"$TMP/$name.log" 2>&1 </dev/null &
    PIDS+=("$!")
    printf -v "PID_$name" '%s' "$!"
}

start_bufcached() { # bin/bufcached arguments...: bufcached serving $IMG as "disk" on $(sock bufcached) only
    cat >"$TMP/bufcached.yaml" <<EOF
listen:
  tcp: []
  unix: ["$(sock bufcached)"]
exports:
  - name: disk
    path: "$IMG"
metrics:
  enabled: false
EOF
    # bin/bufcached execs the JVM: PID_bufcached is the server's own pid.
    start bufcached env BUFCACHED_JAR="$JAR" "$ROOT/bin/bufcached" --config "$TMP/bufcached.yaml" "$@"
}

alive() { # name: dies with the end of its log if that server exited
    local pid=PID_$1
    kill -0 "${!pid}" 2>/dev/null || { tail -50 "$TMP/$1.log" >&2; die "$1 exited"; }
}

wait_serving() { # name...: until each completes an NBD handshake at its uri (30 s at most)
    local s
    for s in "$@"; do
        for _ in $(seq 300); do
            if "$PY" -c "import nbd,sys; h=nbd.NBD(); h.connect_uri(sys.argv[1]); h.shutdown()" "$(uri "$s")" \
                    2>/dev/null; then
                continue 2
            fi
            alive "$s"
            sleep 0.1
        done
        die "$s not serving at $(uri "$s") after 30 s"
    done
}

fio_iops() { # uri fio-option...: prints the IOPS (reads and writes, all jobs), 0 if fio failed
    local out=$TMP/fio.json
    if ! fio --name=job --ioengine=nbd --uri="$1" --group_reporting=1 "${@:2}" --output-format=json \
            --output="$out" >"$TMP/fio.err" 2>&1; then
        echo "fio failed:" >&2
        cat "$TMP/fio.err" >&2
        echo 0
        return
    fi
    "$PY" - "$out" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
j = json.loads(text[text.index("{"):])["jobs"][0]
print("%.0f" % (j["read"]["iops"] + j["write"]["iops"]))
EOF
}

record() { # case server iops: prints the result and keeps it for median_table
    printf '   %-22s %-10s %10s IOPS\n' "$1" "$2" "$3"
    echo "$1 $2 $3" >>"$RESULTS"
}

settle() { # the servers share $IMG: none starts with pages another left dirty, which its syncs would write
    if [ -n "${IMG:-}" ] && [ -f "$IMG" ]; then
        sync "$IMG"
    fi
}

run_rounds() { # rounds: every case of CASES (rw:bs:qd[:jobs]) against every server of SERVERS, each round
    local round shift_by c rw bs qd nj name s
    local -a order
    for round in $(seq "$1"); do
        # The order rotates, so that no server always runs first (on a cold cache) or right after another.
        shift_by=$(( (round - 1) % ${#SERVERS[@]} ))
        order=("${SERVERS[@]:shift_by}" "${SERVERS[@]:0:shift_by}")
        echo "== round $round (${order[*]})"
        for c in "${CASES[@]}"; do
            IFS=: read -r rw bs qd nj <<<"$c"
            name="$rw-$bs-qd$qd${nj:+-x$nj}"
            for s in "${order[@]}"; do
                settle
                record "$name" "$s" "$(fio_iops "$(uri "$s")" --time_based=1 --ramp_time="$RAMP" \
                    --runtime="$RUNTIME" --rw="$rw" --bs="$bs" --iodepth="$qd" --numjobs="${nj:-1}")"
            done
            for s in "${SERVERS[@]}"; do alive "$s"; done
        done
    done
}

median_table() { # first second [ceiling]: each case's median IOPS per server, the ratio first/second and the
                 # geometric mean of the ratios; with a ceiling (nbdkit null), how close the two others get to it
    "$PY" - "$RESULTS" "$@" <<'EOF'
import math, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
servers = sys.argv[2:]
first, second = servers[:2]
ceiling = servers[2] if len(servers) > 2 else None
short = {"bufcached": "bc", "nbdkit": "kit"}
cases = list(dict.fromkeys(r[0] for r in rows))
div = lambda a, b: a / b if b else float("nan")
head = ("%-22s" + " %11s" * len(servers) + " %8s") % ("case", *servers, "ratio")
if ceiling:
    head += " %9s %9s" % tuple("%s/%s" % (short.get(s, s), ceiling) for s in (first, second))
print(head)
ratios = []
for c in cases:
    med = {}
    for s in servers:
        v = [float(r[2]) for r in rows if r[0] == c and r[1] == s]
        med[s] = statistics.median(v) if v else 0.0
    ratios.append(div(med[first], med[second]))
    line = ("%-22s" + " %11.0f" * len(servers) + " %8.2f") % (c, *(med[s] for s in servers), ratios[-1])
    if ceiling:
        line += " %9.2f %9.2f" % (div(med[first], med[ceiling]), div(med[second], med[ceiling]))
    print(line)
good = [r for r in ratios if r > 0 and not math.isnan(r)]
if len(good) > 1:
    print("%-22s %*s %.2f" % ("geomean", 12 * len(servers) + 8, "", math.exp(sum(map(math.log, good)) / len(good))))
EOF
}
