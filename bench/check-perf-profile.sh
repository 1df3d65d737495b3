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
awk 'BEGIN { print "global_defs {\n  router_id bench\n}"; for (v = 0; v < 50; v++) { printf "virtual_server 10.99.0.%d 80 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n", v; for (i = v*100; i < v*100+100; i++) printf "  real_server 127.1.%d.%d 8080 {\n    weight 1\n    TCP_CHECK {\n      connect_port 8080\n      connect_timeout 3\n      retry 0\n    }\n  }\n", 1 + int(i/250), 1 + i%250; print "}" } }' > /tmp/c.conf
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
