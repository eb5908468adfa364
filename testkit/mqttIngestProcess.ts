import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { startMqttIngest } from '../src/adapters/mqtt/mqttIngestClient.js';

/**
 * An ingest client in a process of its own, so a test can SIGKILL it mid-stream. Its onPublish
 * reports every message on stdout and, after `holdAfter` messages, never resolves: that message
 * and every later one stay unacknowledged until the process dies. SIGTERM retires it: it leaves
 * the share group and ends its session, so later tests do not share messages with it.
 */
export interface IngestProcessConfig {
  url: string;
  username: string;
  password: string;
  clientId: string;
  holdAfter?: number;
}

export interface IngestProcess {
  /** Payloads given to onPublish, and those it resolved 'accept' for (acknowledged). */
  received: string[];
  accepted: string[];
  ready: Promise<void>;
  kill: () => Promise<void>;
  retire: () => Promise<void>;
}

export function spawnIngestProcess(config: IngestProcessConfig): IngestProcess {
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
    env: { ...process.env, TRIPLINE_TEST_INGEST: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const received: string[] = [];
  const accepted: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`ingest process exited (${code}) before it was ready`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { event: 'ready' | 'received' | 'accepted'; payload?: string };
      if (event.event === 'ready') resolve();
      else if (event.event === 'received') received.push(event.payload!);
      else accepted.push(event.payload!);
    });
  });
  ready.catch(() => {});
  return {
    received,
    accepted,
    ready,
    kill: () => signal(child, 'SIGKILL'),
    retire: () => signal(child, 'SIGTERM'),
  };
}

function signal(child: ChildProcess, name: NodeJS.Signals): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(name);
  });
}

const raw = process.env.TRIPLINE_TEST_INGEST;
if (raw && process.argv[1] === fileURLToPath(import.meta.url)) {
  const config = JSON.parse(raw) as IngestProcessConfig;
  const report = (event: object): void => void process.stdout.write(`${JSON.stringify(event)}\n`);
  let handled = 0;
  const ingest = startMqttIngest({
    ...config,
    connections: 1,
    reconnectMinMs: 100,
    logger: pino({ level: 'silent' }),
    lookup: async (deviceId) => ({ deviceId, vehicleId: `veh-${deviceId}`, tenantId: 't1' }),
    onRejected: () => {},
    onPoison: () => {},
    onPublish: async (input) => {
      const payload = input.payload.toString();
      report({ event: 'received', payload });
      if (config.holdAfter !== undefined && ++handled > config.holdAfter) await new Promise(() => {});
      report({ event: 'accepted', payload });
      return 'accept';
    },
  });
  process.once('SIGTERM', () => void ingest.retire(300).finally(() => process.exit(0)));
  await ingest.ready();
  report({ event: 'ready' });
}
