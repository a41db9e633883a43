#!/usr/bin/env bash
# Checks the installed units under a real systemd, by hand (as root, on a Debian machine with
# systemd-container): boots this machine's own root, behind a throw-away overlay, as a
# systemd-nspawn container with a private network, and inside it installs the package, starts
# bufcached.service, copies data in and out with nbdcopy (mmap of the export file), reloads and
# stops it, runs IoUringCheck.java (io_uring set-up, probe and I/O, and a shared mmap) under
# exactly the unit's sandbox, and prints `systemd-analyze security`. Nothing outlives the run.
#
#   bash systemd/check/check-unit.sh packaging/target/bufcached_*_all.deb
#
# Used to choose the hardening in bufcached.service: keep every setting with which all of
# this still passes.
set -euo pipefail
deb=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /var/tmp/bufcached-unit-check.XXXXXX)
trap 'umount "$work/root" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work"/{upper,work,root,ops/out}
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/work" "$work/root"
cp "$deb" "$work/ops/bufcached.deb"
cp "$here/IoUringCheck.java" "$work/ops/"

cat > "$work/ops/ops-test.service" <<'UNIT'
[Unit]
Description=bufcached unit checks
After=basic.target
[Service]
Type=oneshot
ExecStart=/bin/bash /ops/test.sh
StandardOutput=file:/ops/out/test.log
StandardError=inherit
ExecStopPost=/bin/systemctl --no-block poweroff
UNIT

cat > "$work/ops/test.sh" <<'TEST'
#!/bin/bash
set -x
dpkg -i /ops/bufcached.deb
systemctl daemon-reload
systemctl start bufcached.service
systemctl status --no-pager bufcached.service | head -8
U='nbd+unix:///disk?socket=/run/bufcached/nbd.sock'
head -c 32M /dev/urandom > /root/src.bin
nbdcopy --flush /root/src.bin "$U" && nbdcopy "$U" /root/back.img \
    && cmp -n 33554432 /root/src.bin /root/back.img && echo "CHECK round trip through the mapped export: ok"
systemctl reload bufcached.service
sed -e 's|^ExecStart=.*|ExecStart=/usr/bin/java -cp /usr/share/bufcached/bufcached.jar /ops/IoUringCheck.java /var/lib/bufcached/check.img|' \
    -e 's|^Type=notify|Type=oneshot|' -e '/^ExecReload=/d' -e '/^WatchdogSec=/d' -e '/^Restart/d' \
    /lib/systemd/system/bufcached.service > /etc/systemd/system/bufcached-check.service
systemctl daemon-reload
systemctl start bufcached-check.service
journalctl -u bufcached-check --no-pager -o cat | sed 's/^/CHECK /'
systemctl stop bufcached.service
systemctl show -p Result -p ExecMainStatus bufcached.service | sed 's/^/CHECK /'
journalctl -u bufcached --no-pager -o cat | grep -E "WARN|ERROR|reload|I/O engine|listening" | sed 's/^/LOG /'
systemd-analyze security bufcached.service --no-pager | tail -1
TEST

timeout 600 systemd-nspawn -D "$work/root" --private-network --register=no --keep-unit --link-journal=no \
    --bind="$work/ops:/ops" --bind-ro="$work/ops/ops-test.service:/etc/systemd/system/ops-test.service" \
    --machine=bufcached-check -b systemd.unit=ops-test.service >"$work/nspawn.log" 2>&1 || true
grep -E "^(CHECK|LOG)|exposure" "$work/ops/out/test.log" || { tail -50 "$work/nspawn.log"; exit 1; }
