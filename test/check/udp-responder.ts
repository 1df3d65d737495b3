// A UDP server process for the UDP_CHECK tests: `node udp-responder.ts HOST MODE [HEX]` binds HOST port 0,
// prints `port N`, then answers every datagram: `echo` sends it back, `reply HEX` sends HEX, `silent` never answers.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';

const [host = '127.0.0.1', mode = 'echo', hex = ''] = process.argv.slice(2);
const socket = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
socket.on('message', (data, from) => {
  if (mode === 'silent') return;
  socket.send(mode === 'reply' ? Buffer.from(hex, 'hex') : data, from.port, from.address);
});
socket.bind(0, host, () => process.stdout.write(`port ${socket.address().port}\n`));
