#!/usr/bin/env bash
# fio over TLS: bufcached (bin/bufcached, --tls require) against `nbdkit --tls=require`
# serving the same 1 GiB file with the same X.509 certificates (made here with
# openssl), both on Unix sockets, fio's nbd engine with nbds+unix:// URIs.
#
#   bench/fio-tls.sh [ROUNDS]        (default 3 rounds)
#
# Builds nothing: needs daemon/target/bufcached.jar, fio with ioengine=nbd, nbdkit,
# openssl. Environment: RUNTIME (s per case, default 10), RAMP (default 2),
# CASES (rw:bs:qd, default the three below), BENCH_DIR, ENGINE.
#
# Each round runs every case against both servers, their order alternating from
# round to round; the summary gives each case's median IOPS and the ratio.
# fio's libnbd cannot read tls-certificates= from a URI, so the client does not
# verify the server (tls-verify-peer=false); the server side is the same either way.
set -euo pipefail

ROUNDS=${1:-3}
RUNTIME=${RUNTIME:-10}
RAMP=${RAMP:-2}
ENGINE=${ENGINE:-auto}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=${BUFCACHED_JAR:-$ROOT/daemon/target/bufcached.jar}
PY=/usr/bin/python3
read -r -a CASES <<<"${CASES:-read:1M:8 write:1M:8 randread:4k:32}"
SERVERS=(bufcached nbdkit)

die() { echo "fio-tls: $*" >&2; exit 1; }
[ -f "$JAR" ] || die "no daemon jar at $JAR (run mvn -B package first, or set BUFCACHED_JAR)"
command -v fio >/dev/null || die "fio is not installed"
command -v nbdkit >/dev/null || die "nbdkit is not installed"
command -v openssl >/dev/null || die "openssl is not installed"

TMP=$(mktemp -d "${BENCH_DIR:-/tmp}/fio-tls.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "== fio-tls: $(date -u +%FT%TZ), commit $COMMIT, $(nproc) CPUs, $(uname -r), fio $(fio --version), $(nbdkit --version 2>&1 | head -1)"

CERTS=$TMP/pki
mkdir -p "$CERTS"
(
    cd "$CERTS"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca-cert.pem -days 2 \
        -subj "/CN=bench CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial -out server-cert.pem \
        -days 2 -extfile ext.cnf 2>/dev/null
    chmod 600 server-key.pem ca-key.pem
)

IMG=$TMP/disk.img
head -c 1G /dev/urandom >"$IMG"
sync "$IMG"
SOCK_bufcached=$TMP/bufcached.sock
SOCK_nbdkit=$TMP/nbdkit.sock
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
    --tls require --tls-certificates "$CERTS" >"$TMP/bufcached.log" 2>&1 </dev/null &
PIDS+=("$!")
nbdkit --foreground --unix "$SOCK_nbdkit" --tls=require --tls-certificates="$CERTS" \
    file file="$IMG" >"$TMP/nbdkit.log" 2>&1 </dev/null &
PIDS+=("$!")

uri() { local v=SOCK_$1; echo "nbds+unix:///disk?socket=${!v}&tls-verify-peer=false"; }
for s in "${SERVERS[@]}"; do
    for _ in $(seq 300); do
        if "$PY" -c "import nbd,sys; h=nbd.NBD(); h.set_tls(nbd.TLS_REQUIRE); h.connect_uri(sys.argv[1]); h.shutdown()" \
                "$(uri "$s")" 2>/dev/null; then
            continue 2
        fi
        sleep 0.1
    done
    cat "$TMP/$s.log" >&2
    die "$s not serving TLS on its socket after 30 s"
done
grep -m1 "TLS require" "$TMP/bufcached.log" | sed 's/^.* - /== bufcached: /' || true

run_case() { # uri rw bs qd -> IOPS
    local out=$TMP/out.json
    if ! fio --name=job --ioengine=nbd --uri="$1" --time_based=1 --ramp_time="$RAMP" --runtime="$RUNTIME" \
            --rw="$2" --bs="$3" --iodepth="$4" --output-format=json --output="$out" >"$TMP/fio.err" 2>&1; then
        cat "$TMP/fio.err" >&2
        echo 0
        return
    fi
    "$PY" -c "
import json, sys
t = open(sys.argv[1]).read(); j = json.loads(t[t.index('{'):])['jobs'][0]
print('%.0f' % (j['read']['iops'] + j['write']['iops']))" "$out"
}

RESULTS=$TMP/results.txt
: >"$RESULTS"
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then order=(bufcached nbdkit); else order=(nbdkit bufcached); fi
    echo "== round $round (${order[*]})"
    for c in "${CASES[@]}"; do
        IFS=: read -r rw bs qd <<<"$c"
        for s in "${order[@]}"; do
            iops=$(run_case "$(uri "$s")" "$rw" "$bs" "$qd")
            printf '   %-18s %-10s %10s IOPS\n' "$rw-$bs-qd$qd" "$s" "$iops"
            echo "$rw-$bs-qd$qd $s $iops" >>"$RESULTS"
        done
    done
done
echo
echo "== median IOPS over $ROUNDS rounds, TLS (engine $ENGINE, commit $COMMIT)"
"$PY" - "$RESULTS" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
cases = list(dict.fromkeys(r[0] for r in rows))
print("%-18s %11s %11s %8s" % ("case", "bufcached", "nbdkit", "ratio"))
for c in cases:
    m = {s: statistics.median(float(r[2]) for r in rows if r[0] == c and r[1] == s) for s in ("bufcached", "nbdkit")}
    print("%-18s %11.0f %11.0f %8.2f" % (c, m["bufcached"], m["nbdkit"], m["bufcached"] / m["nbdkit"] if m["nbdkit"] else 0))
EOF
