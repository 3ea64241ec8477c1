/**
 * Worker thread of the media benchmark (media-light.ts, sideSessionLatencies): a second session of
 * a logged-in auth key on a connection of its own, calling help.getNearestDc one call after the
 * other until told to stop, then posting how long each took. It runs on its own thread so that
 * its timings are the gateway's: the main thread is busy decrypting the download it measures
 * against, and a call answered on time would wait there for the event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LightClient } from '../load/client';
import { clientTl } from './media-light';

interface SideSessionData {
  host: string;
  port: number;
  authKey: Uint8Array;
}

async function run(): Promise<void> {
  const d = workerData as SideSessionData;
  const port = parentPort!;
  let stop = false;
  port.once('message', () => (stop = true));
  const side = await LightClient.connect({
    host: d.host,
    port: d.port,
    authKey: Buffer.from(d.authKey),
    tl: clientTl(),
  });
  const took: number[] = [];
  try {
    port.postMessage({ ready: true });
    while (!stop) {
      const start = performance.now();
      await side.call({ _: 'help.getNearestDc' });
      took.push(performance.now() - start);
    }
  } finally {
    side.close();
  }
  port.postMessage({ took });
}

run().catch((err: unknown) => parentPort!.postMessage({ error: String(err) }));
