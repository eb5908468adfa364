import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';

/** A server process started from a Debian package's binary, for tests and `tripline cluster up`. */
export interface LocalService {
  /** What clients use to reach it (a URL). */
  url: string;
  port: number;
  process: ChildProcess;
  /** SIGTERM and wait for exit (data stays, so it can be started again). */
  stop: () => Promise<void>;
  /** SIGKILL: a crash. */
  kill: () => Promise<void>;
}

/** The first of `candidates` that exists, or null. */
export function findBinary(candidates: string[]): string | null {
  return candidates.find((path) => existsSync(path)) ?? null;
}

/**
 * PostgreSQL refuses to run as root, and the Debian packages create a system user for each
 * server; as root we run each server as its own user, otherwise as ourselves.
 */
export function serviceUser(name: string): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** Makes a folder the service's user owns. */
export function serviceDir(path: string, user: { uid: number; gid: number } | undefined): string {
  // Parents stay traversable for the service's user; the folder itself is private to it.
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (user) chownSync(path, user.uid, user.gid);
  return path;
}

export function spawnService(binary: string, args: string[], user: { uid: number; gid: number } | undefined, options: SpawnOptions = {}): ChildProcess {
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options, ...(user ?? {}) });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  (child as ChildProcess & { stderrTail: () => string }).stderrTail = () => stderr;
  return child;
}

export function stderrTail(child: ChildProcess): string {
  return (child as ChildProcess & { stderrTail?: () => string }).stderrTail?.() ?? '';
}

export function exitedProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

export async function signalAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  await exitedProcess(child);
}

/** A temporary root for services' folders that their users (e.g. `postgres`) can reach. */
export function tempServiceRoot(prefix: string): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(root, 0o755);
  return root;
}
