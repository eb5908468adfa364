import { chmodSync, mkdirSync } from 'node:fs';

/**
 * The data folder holds customers' locations and device secrets' hashes: only its owner may
 * enter it (0700), whatever the umask made of the files inside.
 */
export function ensurePrivateDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}
