# The CLI's start in the IPVS VM, two trees alternated: BASE (a worktree inside the project, e.g. .cache/base05
# made with `git worktree add`, node_modules and build linked from the main tree) against this one; wall ms of five
# runs each after one untimed run, warm compile cache.
#   node test/kernel/vm.ts -- sh bench/cli-start.sh .cache/base05
BASE=$1
t() { s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo "$(( (e - s) / 1000000 ))"; }
modprobe ip_vs 2>/dev/null
for c in "--version" "status --control /nonexistent" "ipvs list"; do
  node $BASE/bin/ipvs-ts.js $c >/dev/null 2>&1; node bin/ipvs-ts.js $c >/dev/null 2>&1
  b=""; a=""
  for i in 1 2 3 4 5; do b="$b $(t node $BASE/bin/ipvs-ts.js $c)"; a="$a $(t node bin/ipvs-ts.js $c)"; done
  echo "$c | before:$b | after:$a"
done
echo "node -e 0: $(t node -e 0) $(t node -e 0) $(t node -e 0)"
