// drained(): the back-pressure wait of the control socket's and /metrics' streamed replies, on a real loopback
// socket whose reader stops reading.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { drained } from '../../src/control/drain.ts';

async function pair(t: { after(fn: () => void): void }): Promise<{ writer: Socket; reader: Socket }> {
  const server = createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const writer = createConnection((server.address() as AddressInfo).port, '127.0.0.1');
  const [reader] = (await once(server, 'connection')) as [Socket];
  t.after(() => {
    writer.destroy();
    reader.destroy();
    server.close();
  });
  return { writer, reader };
}

/** Writes until the socket's buffer is full (the paused reader and the kernel's buffers take no more). */
function fill(writer: Socket): void {
  const chunk = Buffer.alloc(1 << 16);
  while (writer.write(chunk));
}

test('drained: resolves once the reader catches up, and leaves no listener behind', async (t) => {
  const { writer, reader } = await pair(t);
  const before = { drain: writer.listenerCount('drain'), close: writer.listenerCount('close') };
  fill(writer);
  const wait = drained(writer);
  reader.resume();
  await wait;
  assert.equal(writer.writableNeedDrain, false);
  assert.deepEqual({ drain: writer.listenerCount('drain'), close: writer.listenerCount('close') }, before);
});

test('drained: resolves when the reader goes away instead (the writer then sees destroyed)', async (t) => {
  const { writer, reader } = await pair(t);
  writer.on('error', () => {}); // the reset the full writer gets
  fill(writer);
  const wait = drained(writer);
  reader.resetAndDestroy();
  await wait;
  assert.equal(writer.destroyed, true);
  assert.equal(writer.listenerCount('drain'), 0);
});
