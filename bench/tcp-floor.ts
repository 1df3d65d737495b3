// The floor of a TCP_CHECK written in JavaScript on this project's shim, one call into it per system call: the
// same system calls per check as src/check/tcp-connect.ts (socket, connect, epoll_ctl, getsockopt(SO_ERROR),
// close; it batches them), with nothing else around them. No promises, no scheduler, no result objects, no
// allocation per check; one clock read per timer tick and per read of the epoll set; every real server planned
// delay_loop after its previous check's completion, as keepalived and ipvs-ts plan. What this costs per check in
// the guest, beside keepalived's checker, is the least a JavaScript checker making one crossing into N-API per
// system call can cost: bench/check-vs-keepalived.ts runs it as the checker `floor`.
//
//   node bench/tcp-floor.ts KEEPALIVED_CONF
//
// It reads only `real_server IP PORT`, TCP_CHECK's `connect_port`, and the first `delay_loop` and
// `connect_timeout` of the file (the bench's own configurations); a connect that times out is closed and planned
// again like a completed one.
import { readFileSync } from 'node:fs';
import { AF_INET, EPOLL_CTL_ADD, EPOLLOUT, IPPROTO_TCP, SOCK_STREAM } from '../src/sys/constants.ts';
import { sys } from '../src/sys/native.ts';
import { encodeSockaddr } from '../src/sys/sockaddr.ts';
import { TimerHeap } from '../src/check/heap.ts';

const conf = readFileSync(process.argv[2]!, 'utf8');
const delayMs = 1000 * Number(/delay_loop\s+(\d+)/.exec(conf)?.[1] ?? 1);
const timeoutMs = 1000 * Number(/connect_timeout\s+(\d+)/.exec(conf)?.[1] ?? 3);
const checkPort = /connect_port\s+(\d+)/.exec(conf)?.[1];
const targets = [...conf.matchAll(/real_server\s+(\S+)\s+(\d+)/g)]
  .map(([, ip, port]) => encodeSockaddr({ family: 4, address: ip!, port: Number(checkPort ?? port) }));

const native = sys();
const epfd = native.epollCreate();
const plans = new TimerHeap();
/** The target and start time of the connect on each descriptor (-1: none). */
const targetOf = new Int32Array(65536).fill(-1);
const startedAt = new Float64Array(65536);
/** Deadlines in start order, which is deadline order: [fd, started] pairs, skipped when the fd moved on. */
const deadlineFds: number[] = [];
const deadlineStarts: number[] = [];
let deadlineHead = 0;
const events = new Int32Array(2 * 1024);
let checks = 0;

let now = performance.now();
for (let i = 0; i < targets.length; i++) plans.push(now + (delayMs * i) / targets.length, i);

function start(target: number): void {
  const fd = native.socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  native.connect(fd, targets[target]!);
  native.epollCtl(epfd, EPOLL_CTL_ADD, fd, EPOLLOUT);
  targetOf[fd] = target;
  startedAt[fd] = now;
  deadlineFds.push(fd);
  deadlineStarts.push(now);
}

function done(fd: number): void {
  const target = targetOf[fd]!;
  targetOf[fd] = -1;
  native.close(fd);
  checks++;
  plans.push(now + delayMs, target);
}

function drain(): void {
  now = performance.now();
  for (;;) {
    const n = native.epollWait(epfd, events);
    for (let i = 0; i < n; i++) {
      const fd = events[2 * i]!;
      if (targetOf[fd]! < 0) continue;
      native.socketError(fd);
      done(fd);
    }
    if (n < events.length / 2) return;
  }
}

let timer: NodeJS.Timeout | undefined;
let timerAt = Infinity;

function tick(): void {
  clearTimeout(timer);
  timer = undefined;
  timerAt = Infinity;
  now = performance.now();
  while (deadlineHead < deadlineFds.length && deadlineStarts[deadlineHead]! + timeoutMs <= now) {
    const fd = deadlineFds[deadlineHead]!;
    if (targetOf[fd]! >= 0 && startedAt[fd] === deadlineStarts[deadlineHead]) done(fd);
    deadlineHead++;
  }
  if (deadlineHead > 65536) {
    deadlineFds.splice(0, deadlineHead);
    deadlineStarts.splice(0, deadlineHead);
    deadlineHead = 0;
  }
  // At most 16 starts, then the loop's I/O, as keepalived's loop takes timers and I/O from one epoll_wait: a
  // thousand connects started at once when late overflow the listener's queue and time out instead.
  let budget = 16;
  for (let at = plans.peekTime(); budget-- > 0 && at !== undefined && at <= now; at = plans.peekTime()) start(plans.pop()!);
  if ((plans.peekTime() ?? Infinity) <= now) setImmediate(tick);
  else arm();
}

function arm(): void {
  const next = Math.min(plans.peekTime() ?? Infinity, deadlineHead < deadlineStarts.length ? deadlineStarts[deadlineHead]! + timeoutMs : Infinity);
  if (next >= timerAt) return;
  clearTimeout(timer);
  timerAt = next;
  timer = setTimeout(tick, Math.max(0, next - now));
}

const poller = new native.Poller(epfd, (err) => {
  if (err) throw err;
  drain();
  arm();
});
poller.start(true, false);
arm();
process.on('SIGTERM', () => {
  process.stdout.write(`${checks} checks\n`);
  process.exit(0);
});
process.stdout.write(`checking ${targets.length} real servers every ${delayMs} ms\n`);
