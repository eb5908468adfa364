import { rmSync } from 'node:fs';
import { tempServiceRoot } from '../src/cluster/services/localService.js';
import { natsServerBinary, startNats } from '../src/cluster/services/nats.js';
import { freePort } from './processes.js';

/**
 * Why the tests needing nats-server must skip (it is not installed), or false. Under CI a
 * missing server fails the run instead of skipping quietly.
 */
export function natsSkipReason(): string | false {
  if (natsServerBinary()) return false;
  if (process.env.CI === 'true') throw new Error('nats-server is required under CI (apt-get install nats-server)');
  console.warn('\n!!! SKIPPING the NATS tests: nats-server is missing (apt-get install nats-server) !!!\n');
  return 'nats-server is not installed';
}

export interface TestNats {
  url: string;
  /** Stops the server (`stop`: SIGTERM, `kill`: SIGKILL, a crash) and starts it again on the same folder and port. */
  restart: (how: 'stop' | 'kill') => Promise<void>;
  close: () => Promise<void>;
}

/** A nats-server with JetStream on a free port, its storage in a fresh temporary folder. */
export async function startTestNats(): Promise<TestNats> {
  const dir = tempServiceRoot('tripline-nats-');
  const port = await freePort();
  let service = await startNats({ dir, port });
  return {
    url: service.url,
    restart: async (how) => {
      await (how === 'kill' ? service.kill() : service.stop());
      service = await startNats({ dir, port });
    },
    close: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
