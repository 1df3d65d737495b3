#!/bin/sh
# bench/tcp-floor.ts and `ipvs-ts check` alone, in turns, on the host: CPU per TCP_CHECK against
# bench/check-listener.c on N real servers (127.1.X.Y) at delay_loop 1. The host kernel has no IPVS, so keepalived
# cannot run here (bench/check-vs-keepalived.ts measures all three in the VM). Run as root in a network namespace
# of its own, from the project:
#
#   N=5000 IMPLS="floor ipvs-ts floor ipvs-ts" unshare -n sh bench/tcp-floor-host.sh
set -e
D=.cache/tcp-floor-host
mkdir -p $D
[ -x .cache/bench/check-listener ] || { mkdir -p .cache/bench; cc -O2 -o .cache/bench/check-listener bench/check-listener.c; }
ip link set lo up
sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535" net.core.somaxconn=65535
ulimit -n 20000
.cache/bench/check-listener > $D/listener.out &
L=$!
trap 'kill $L' EXIT
awk -v N=${N:-5000} -f bench/check-tcp-5000.awk > $D/c.conf
for impl in ${IMPLS:-floor ipvs-ts floor ipvs-ts}; do
  if [ $impl = floor ]; then node bench/tcp-floor.ts $D/c.conf > $D/$impl.log 2>&1 &
  else node bin/ipvs-ts.js check -f $D/c.conf > $D/$impl.log 2>&1 & fi
  P=$!
  sleep 8
  T0=$(cut -d' ' -f14,15 /proc/$P/stat); kill -USR1 $L
  sleep 15
  T1=$(cut -d' ' -f14,15 /proc/$P/stat); kill -USR2 $L
  kill -TERM $P; wait $P || true
  sleep 1
  A=$(tail -1 $D/listener.out | grep -o '"tcp":{"accepted":[0-9]*' | grep -o '[0-9]*$')
  # clock ticks of 10 ms: µs per check = ticks × 10,000 / checks
  echo "$impl $T0 $T1 $A" | awk '{ u = $4 - $2; s = $5 - $3; printf "%s: %d checks, CPU %.1f us per check (user %.1f)\n", $1, $6, (u + s) * 10000 / $6, u * 10000 / $6 }'
done
