// Run inside the namespace tcp-netns.test.ts creates: TCP_CHECKs towards addresses whose SYNs are dropped (so none
// is ever answered) and towards closed ports on the namespace's loopback.
// Prints one JSON object of results.
import { checkTcp } from '../../src/check/tcp.ts';
import { tcpCheck } from './model.ts';

const never = new AbortController().signal;
const run = (connectIp: string, connectPort: number, connectTimeoutMs: number) =>
  checkTcp(tcpCheck({ connectIp, connectPort, connectTimeoutMs }), never);

const [v4, v6, v4Short, refused4, refused6] = await Promise.all([
  run('10.77.0.2', 80, 400),
  run('2001:db8:77::2', 80, 400),
  run('10.77.0.3', 80, 150),
  run('127.0.0.1', 9, 400),
  run('::1', 9, 400),
]);
console.log(JSON.stringify({ v4, v6, v4Short, refused4, refused6 }));
