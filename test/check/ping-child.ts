// Runs PING_CHECK in the network namespace it is started in (`ip netns exec NS node ping-child.ts ADDRESS
// TIMEOUT_MS`) and prints the socket kind it gets and the result as JSON.
import { checkPing, openEchoSocket } from '../../src/check/ping.ts';
import { inetFamily } from '../../src/sys/inet.ts';
import { pingCheck } from './model.ts';

const [address = '', timeout = '1000'] = process.argv.slice(2);
const probe = openEchoSocket(inetFamily(address) ?? 4);
probe.socket.close();
const result = await checkPing(pingCheck({ connectIp: address, connectTimeoutMs: Number(timeout) }), new AbortController().signal);
process.stdout.write(JSON.stringify({ kind: probe.kind, result }));
