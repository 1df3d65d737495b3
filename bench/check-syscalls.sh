# What a check costs the kernel, in the IPVS VM, for keepalived's checker and for `ipvs-ts check`, each alone on
# 5,000 TCP_CHECK real servers at delay_loop 1 behind bench/check-listener.c (built by a bench/check-vs-keepalived.ts
# run first): `perf stat` (CPU, context switches, page faults) over 10 s of each, with the listener's count of its
# checks over the same seconds (listener.txt, one JSON line per checker), then `strace -c -f` over 10 s more (slower:
# only its counts per connect() mean anything). Reports land in .cache/perf/.
#   node test/kernel/vm.ts -- sh bench/check-syscalls.sh
modprobe ip_vs
sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535" net.core.somaxconn=65535
ulimit -n 65536
OUT=.cache/perf
mkdir -p $OUT
cat /sys/devices/system/clocksource/clocksource0/current_clocksource > $OUT/clocksource.txt
.cache/bench/check-listener > /tmp/l.out &
L=$!
awk -f bench/check-tcp-5000.awk > /tmp/c.conf
keepalived --check --dont-fork --no-syslog --log-console -f /tmp/c.conf -p /tmp/k.pid -c /tmp/kc.pid > /tmp/k.log 2>&1 &
K=$!
sleep 30
KC=$(cat /proc/$K/task/$K/children | cut -d' ' -f1)
kill -USR1 $L; perf stat -e task-clock,context-switches,cpu-migrations,page-faults,minor-faults,major-faults -p $KC -o $OUT/keepalived-stat.txt -- sleep 10; kill -USR2 $L
timeout -s INT 10 strace -c -f -p $KC -o $OUT/keepalived-strace.txt
kill $K; wait $K
ipvsadm -C
sleep 5
node bin/ipvs-ts.js check -f /tmp/c.conf > /tmp/c.log 2>&1 &
P=$!
sleep 45
kill -USR1 $L; perf stat -e task-clock,context-switches,cpu-migrations,page-faults,minor-faults,major-faults -p $P -o $OUT/ipvsts-stat.txt -- sleep 10; kill -USR2 $L
timeout -s INT 10 strace -c -f -p $P -o $OUT/ipvsts-strace.txt
kill $P; wait $P
kill $L
cp /tmp/l.out $OUT/listener.txt
echo done
