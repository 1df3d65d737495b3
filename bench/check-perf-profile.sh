# Flat `perf record -e cpu-clock` profiles, in the IPVS VM, of keepalived's checker and of `ipvs-ts check` (under
# --perf-basic-prof), each alone on 5,000 TCP_CHECK real servers at delay_loop 1 behind bench/check-listener.c (built
# by a bench/check-vs-keepalived.ts run first). Reports by DSO and by symbol land in .cache/perf/.
#   node test/kernel/vm.ts -- sh bench/check-perf-profile.sh
modprobe ip_vs
sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535" net.core.somaxconn=65535
ulimit -n 65536
OUT=.cache/perf
mkdir -p $OUT
.cache/bench/check-listener > /tmp/l.out &
L=$!
awk -f bench/check-tcp-5000.awk > /tmp/c.conf
report() { perf report -i /tmp/perf.$1 --no-children --sort dso --stdio 2>/dev/null | grep -v "^#" | grep -v "^$" | head -20 > $OUT/$1-dso.txt; perf report -i /tmp/perf.$1 --no-children --sort dso,sym --stdio 2>/dev/null | grep -v "^#" | grep -v "^$" | head -120 > $OUT/$1-sym.txt; }
keepalived --check --dont-fork --no-syslog --log-console -f /tmp/c.conf -p /tmp/k.pid -c /tmp/kc.pid > /tmp/k.log 2>&1 &
K=$!
sleep 40
KC=$(cat /proc/$K/task/$K/children | cut -d' ' -f1)
perf record -e cpu-clock -F 499 -p $KC -o /tmp/perf.keepalived -- sleep 15 2>/dev/null
kill $K; wait $K
ipvsadm -C
sleep 5
node --perf-basic-prof bin/ipvs-ts.js check -f /tmp/c.conf > /tmp/c.log 2>&1 &
P=$!
sleep 60
perf record -e cpu-clock -F 499 -p $P -o /tmp/perf.ipvsts -- sleep 15 2>/dev/null
kill $P; wait $P
kill $L
report keepalived
report ipvsts
echo done
