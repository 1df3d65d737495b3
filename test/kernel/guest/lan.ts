// Shared by the guest traffic tests: a LAN bridge in the VM's root namespace (the director), namespaces joined to
// it, TCP servers that answer every connection with their name, and a client that counts who answered.
import { writeFileSync } from 'node:fs';

// Perl, not busybox: the static busybox's wget and httpd crash in the guest (static glibc NSS), and a node start
// takes seconds under TCG. The server answers every connection with its name; the client makes `n` in a row.
const SERVER = `use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalPort => 80, Listen => 128, ReuseAddr => 1) or die "listen: $!";
while (my $c = $s->accept) { print $c "$ARGV[0]\\n"; close $c }`;
const CLIENT_LOOP = `use IO::Socket::INET; $| = 1; for (1 .. $ARGV[1]) {
  my $c = IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => 80, Timeout => 5);
  if (!$c) { print "FAILED\\n"; next } my $l = <$c>; print defined $l ? $l : "FAILED\\n"; close $c }`;

export const SERVER_SCRIPT = '/tmp/ipvst-server.pl';
export const CLIENT_SCRIPT = '/tmp/ipvst-client.pl';

export function writeLanScripts(): void {
  writeFileSync(SERVER_SCRIPT, SERVER);
  writeFileSync(CLIENT_SCRIPT, CLIENT_LOOP);
}

/** Shell lines that put namespace `ns` on `bridge` through a veth whose root-side end is `port`. */
export function joinLan(bridge: string, ns: string, port: string, cidr: string, gateway?: string): string[] {
  return [
    `ip netns add ${ns}`,
    `ip link add ${port} type veth peer name eth0 netns ${ns}`,
    `ip link set ${port} master ${bridge} up`,
    `ip -n ${ns} link set lo up`,
    `ip -n ${ns} link set eth0 up`,
    `ip -n ${ns} addr add ${cidr} dev eth0`,
    ...(gateway ? [`ip -n ${ns} route add default via ${gateway}`] : []),
  ];
}

/** Shell lines that start a named server in each namespace and wait (up to 30 s each) until it listens. */
export function startServers(servers: readonly { ns: string; name: string }[]): string[] {
  return [
    ...servers.map((r) => `ip netns exec ${r.ns} perl ${SERVER_SCRIPT} ${r.name} >/dev/null 2>&1 &`),
    `for ns in ${servers.map((r) => r.ns).join(' ')}; do i=0; until [ -n "$(ip netns exec $ns ss -Hltn 'sport = :80')" ]; do i=$((i+1)); [ $i -lt 150 ]; sleep 0.2; done; done`,
  ];
}

/** One shell script that kills what runs in the namespaces, removes them and the bridge; never fails. */
export function removeLan(namespaces: readonly string[], bridge: string): string {
  return [...namespaces.map((ns) => `for p in $(ip netns pids ${ns} 2>/dev/null); do kill $p; done; ip netns del ${ns} 2>/dev/null`), `ip link del ${bridge} 2>/dev/null`, 'true'].join('\n');
}

/** The shell command that makes `n` connections to `vip`:80 from namespace `ns`, one name per line. */
export function clientLoop(ns: string, vip: string, n: number): string {
  return `ip netns exec ${ns} perl ${CLIENT_SCRIPT} ${vip} ${n}`;
}

/**
 * Shell lines that give the client in `ns` a source address no earlier run used (`prefix` + the next number) and
 * route `vip` from it. IPVS keeps a DR or TUN connection's entry for 2 minutes after the client's FIN (the director
 * sees only the client's half), and the guest's kernel reuses client ports from one run to the next: a SYN that
 * lands on an earlier run's entry is not scheduled but sent that entry's way (or dropped, when its destination is
 * gone). After DR runs and a switch to TUN that way is DR, through the route IPVS cached for the destination's TUN:
 * it looks for the VIP's link-layer address, nobody answers, and the client gets "no route to host" after 3 s.
 * Measured in the VM after 600 DR connections and the switch to TUN: 5 of 300 such failures from one source
 * address, none of 300 from fresh ones.
 */
export function freshSources(ns: string, vip: string, prefix: string, first = 20): () => string {
  let next = first;
  return () => {
    const source = `${prefix}${next++}`;
    return `ip -n ${ns} addr add ${source}/24 dev eth0 && ip -n ${ns} route replace ${vip}/32 dev eth0 src ${source}`;
  };
}

/** Connections per answering server name (FAILED counts too). */
export function tally(out: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of out.split('\n').filter(Boolean)) counts[line] = (counts[line] ?? 0) + 1;
  return counts;
}
