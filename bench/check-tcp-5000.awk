# keepalived.conf for check-perf-profile.sh, check-syscalls.sh and tcp-floor-host.sh: N real servers (-v N=…,
# default 5,000) in virtual servers of 100, 127.1.X.Y:8080 (bench/check-listener.c counts them by address), each
# with a TCP_CHECK at delay_loop 1, connect_timeout 3, retry 0.
BEGIN { print "global_defs {\n  router_id bench\n}"; for (v = 0; v < (N ? N : 5000) / 100; v++) { printf "virtual_server 10.99.0.%d 80 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n", v; for (i = v*100; i < v*100+100; i++) printf "  real_server 127.1.%d.%d 8080 {\n    weight 1\n    TCP_CHECK {\n      connect_port 8080\n      connect_timeout 3\n      retry 0\n    }\n  }\n", 1 + int(i/250), 1 + i%250; print "}" } }
