import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { exitedProcess, serviceDir, serviceUser, signalAndWait, spawnService, stderrTail, type LocalService } from './localService.js';

/** Debian installs the server under /usr/lib/postgresql/{version}/bin; the newest wins. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0]!, 'bin') : null;
}

export function postgisInstalled(): boolean {
  const bin = postgresBinDir();
  if (!bin) return false;
  const version = bin.split('/').at(-2)!;
  return existsSync(`/usr/share/postgresql/${version}/extension/postgis.control`);
}

export interface PostgresOptions {
  /** Folder for the cluster's files (created, initialised on first use). */
  dir: string;
  port: number;
  /** Durability off makes tests fast; `tripline cluster up` keeps PostgreSQL's defaults. */
  fast?: boolean;
}

/**
 * Starts a PostgreSQL server from Debian's package on loopback with a trust-authenticated
 * `postgres` superuser; databases are created by `createDatabase`.
 */
export async function startPostgres(options: PostgresOptions): Promise<LocalService> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (Debian: apt-get install postgresql postgis)');
  const user = serviceUser('postgres');
  const dataDir = join(serviceDir(options.dir, user), 'data');
  const socketDir = serviceDir(join(options.dir, 'socket'), user);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    serviceDir(dataDir, user);
    execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C'], { stdio: 'pipe', ...(user ?? {}) });
  }
  const settings = [
    '-c', `port=${options.port}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir}`,
    '-c', 'max_connections=200', '-c', 'shared_buffers=128MB',
    ...(options.fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
  ];
  const child = spawnService(join(bin, 'postgres'), ['-D', dataDir, ...settings], user);
  const url = `postgres://postgres@127.0.0.1:${options.port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited: ${stderrTail(child)}`);
    try {
      execFileSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(options.port), '-U', 'postgres'], { stdio: 'ignore' });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`postgres did not become ready: ${stderrTail(child)}`);
      await sleep(100);
    }
  }
  return {
    url,
    port: options.port,
    process: child,
    stop: () => signalAndWait(child, 'SIGINT'), // fast shutdown
    kill: () => signalAndWait(child, 'SIGKILL'),
  };
}

/** Creates a database (if missing) and returns its URL; `extensions` are created in it. */
export function createDatabase(service: LocalService, name: string, extensions: string[] = []): string {
  const bin = postgresBinDir()!;
  const psql = (db: string, sql: string): string =>
    execFileSync(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(service.port), '-U', 'postgres', '-d', db, '-tAc', sql], { encoding: 'utf8' }).trim();
  if (psql('postgres', `SELECT 1 FROM pg_database WHERE datname = '${name}'`) !== '1') psql('postgres', `CREATE DATABASE "${name}"`);
  for (const extension of extensions) psql(name, `CREATE EXTENSION IF NOT EXISTS ${extension}`);
  return `postgres://postgres@127.0.0.1:${service.port}/${name}`;
}

export { exitedProcess };
