import { join } from 'node:path';
import { waitForTcp } from './waitForTcp.js';
import { findBinary, serviceDir, serviceUser, signalAndWait, spawnService, stderrTail, type LocalService } from './localService.js';

export function natsServerBinary(): string | null {
  return findBinary(['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']);
}

export interface NatsOptions {
  /** JetStream's file storage goes here (kept across restarts). */
  dir: string;
  port: number;
}

/** Starts Debian's nats-server with JetStream (file storage) on loopback. */
export async function startNats(options: NatsOptions): Promise<LocalService> {
  const binary = natsServerBinary();
  if (!binary) throw new Error('nats-server is not installed (Debian: apt-get install nats-server)');
  const user = serviceUser('nats');
  const storeDir = serviceDir(join(options.dir, 'jetstream'), user);
  const child = spawnService(binary, ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(options.port)], user);
  await waitForTcp(options.port, 20_000, () => (child.exitCode !== null ? `nats-server exited: ${stderrTail(child)}` : null));
  return {
    url: `nats://127.0.0.1:${options.port}`,
    port: options.port,
    process: child,
    stop: () => signalAndWait(child, 'SIGTERM'),
    kill: () => signalAndWait(child, 'SIGKILL'),
  };
}
