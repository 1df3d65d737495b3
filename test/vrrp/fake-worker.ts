// Stands in for src/vrrp/worker.ts in test/vrrp/service.test.ts: reports started, then on the first status request
// dies the way workerData.death says (or never answers), so the service's handling of each death can be watched.
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker } from '../../src/vrrp/service.ts';

const port = parentPort;
if (port === null) throw new Error('fake-worker.ts runs only as a worker thread');
const { death } = workerData as { death: 'throw' | 'exit' | 'report' | 'mute' };
const post = (m: FromWorker) => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  if (m.type === 'stop') {
    post({ type: 'stopped' });
    port.close();
  } else if (death === 'throw') {
    throw new Error('boom');
  } else if (death === 'exit') {
    process.exit(3);
  } else if (death === 'report') {
    // What worker.ts does with an uncaught error once it has left mastership.
    post({ type: 'failed', code: 'VRRP_WORKER', message: 'boom' });
    process.exit(1);
  }
});
post({ type: 'started' });
