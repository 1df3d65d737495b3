# The CLI's start in the IPVS VM, two trees alternated: BASE (a worktree inside the project, e.g. .cache/base05
# made with `git worktree add`, node_modules and build linked from the main tree) against this one; wall ms of five
# runs each after one untimed run, warm compile cache. `check --once` runs one HTTP_GET (to a closed port).
#   node test/kernel/vm.ts -- sh bench/cli-start.sh .cache/base05
BASE=$1
t() { s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo "$(( (e - s) / 1000000 ))"; }
modprobe ip_vs 2>/dev/null
printf 'virtual_server 127.0.0.1 80 {\n  real_server 127.0.0.1 1 {\n    HTTP_GET {\n      url {\n        path /\n      }\n      connect_timeout 1\n    }\n  }\n}\n' > /tmp/http-get.conf
for c in "--version" "status --control /nonexistent" "ipvs list" "check --once -f /tmp/http-get.conf"; do
  node $BASE/bin/ipvs-ts.js $c >/dev/null 2>&1; node bin/ipvs-ts.js $c >/dev/null 2>&1
  b=""; a=""
  for i in 1 2 3 4 5; do b="$b $(t node $BASE/bin/ipvs-ts.js $c)"; a="$a $(t node bin/ipvs-ts.js $c)"; done
  echo "$c | before:$b | after:$a"
done
echo "node -e 0: $(t node -e 0) $(t node -e 0) $(t node -e 0)"
