#!/usr/bin/env bash
# fio over TLS: bufcached (bin/bufcached, --tls require) against `nbdkit --tls=require`
# serving the same 1 GiB file with the same X.509 certificates (made here with
# openssl), both on Unix sockets, fio's nbd engine with nbds+unix:// URIs.
#
#   bench/fio-tls.sh [ROUNDS]        (default 3 rounds)
#
# Builds nothing: needs daemon/target/bufcached.jar, fio with ioengine=nbd, nbdkit,
# openssl, and /usr/bin/python3 with python3-libnbd. Environment: RUNTIME (s per
# case, default 10), RAMP (default 2), CASES (rw:bs:qd, default the three below),
# SIZE (the file, default 1G), BENCH_DIR, ENGINE. A quick check that it runs:
# SIZE=16M RUNTIME=1 RAMP=0 CASES=randread:4k:32 bench/fio-tls.sh 1
#
# Each round runs every case against both servers, their order alternating from
# round to round; the summary gives each case's median IOPS and the ratio.
# fio's libnbd cannot read tls-certificates= from a URI, so the client does not
# verify the server (tls-verify-peer=false); the server side is the same either way.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

ROUNDS=${1:-3}
read -r -a CASES <<<"${CASES:-read:1M:8 write:1M:8 randread:4k:32}"
SERVERS=(bufcached nbdkit)

[ -f "$JAR" ] || die "no daemon jar at $JAR (run mvn -B package first, or set BUFCACHED_JAR)"
need fio nbdkit openssl
bench_init
banner

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
make_image

start_bufcached --io-engine "$ENGINE" --tls require --tls-certificates "$CERTS"
start nbdkit nbdkit --foreground --unix "$(sock nbdkit)" --tls=require --tls-certificates="$CERTS" \
    file file="$IMG"
# nbds+unix:// makes libnbd require TLS, in the probes that wait for the servers as in fio.
uri() { echo "nbds+unix:///disk?socket=$(sock "$1")&tls-verify-peer=false"; }
wait_serving "${SERVERS[@]}"
grep -m1 "TLS require" "$TMP/bufcached.log" | sed 's/^.* - /== bufcached: /' || true

run_rounds "$ROUNDS"
echo
echo "== median IOPS over $ROUNDS rounds, TLS (engine $ENGINE, commit $COMMIT)"
median_table "${SERVERS[@]}"
