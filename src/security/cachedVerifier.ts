import { createHash, timingSafeEqual } from 'node:crypto';
import type { DeviceIdentity } from '../functions/ingest/parseTelemetry.js';
import type { DeviceRegistry, VerifyOutcome } from '../ports/deviceRegistry.js';

export interface CachedVerifierOptions {
  /** Devices remembered at once; the least recently verified is forgotten first. */
  maxEntries?: number;
  /** Slow (scrypt) checks running at once. The libuv threadpool has 4 threads by default, shared with file I/O and DNS. */
  maxConcurrentChecks?: number;
  /** Slow checks allowed to wait; past it a sign-in is refused as `busy` (the device retries later). */
  maxQueuedChecks?: number;
}

export interface CachedVerifier {
  verify(deviceId: string, secret: string): Promise<VerifyOutcome>;
}

interface Entry {
  /** SHA-256 of the secret that passed: secrets are 256 random bits, so a fast hash is enough in memory. */
  digest: Buffer;
  revision: number;
  identity: DeviceIdentity;
  /** A secret that passed during a rotation overlap may be the old one, so it is trusted only until the overlap ends. */
  trustedUntilMs: number;
}

/**
 * Verifies device secrets without running scrypt again for a secret that already passed, so a
 * reconnect storm of known devices costs a SQLite lookup each. The lookup (revision, revoked)
 * happens on every call, so a rotation or revocation made by another process is seen at once.
 * Only successes are remembered.
 */
export function createCachedVerifier(
  registry: Pick<DeviceRegistry, 'get' | 'verify'>,
  options: CachedVerifierOptions = {},
): CachedVerifier {
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  const slowCheck = limitConcurrency(options.maxConcurrentChecks ?? 2);
  const maxQueued = options.maxQueuedChecks ?? 100;
  let queued = 0;
  // One slow check per device at a time: wrong passwords for a known id cannot pile up behind it.
  const checking = new Set<string>();
  const entries = new Map<string, Entry>();

  return {
    async verify(deviceId, secret) {
      const record = await registry.get(null, deviceId);
      if (!record || record.revokedAtMs !== null) {
        entries.delete(deviceId);
        return { ok: false, reason: record ? 'revoked' : 'unknown_device' };
      }
      const digest = createHash('sha256').update(secret).digest();
      const entry = entries.get(deviceId);
      if (entry && entry.revision === record.revision && Date.now() < entry.trustedUntilMs && timingSafeEqual(entry.digest, digest)) {
        entries.delete(deviceId); // re-inserted last: Map order is the recency order
        entries.set(deviceId, entry);
        return { ok: true, identity: entry.identity, revision: entry.revision };
      }
      // A storm of wrong secrets (device ids are not secret) must not starve everyone's sign-in.
      if (queued >= maxQueued || checking.has(deviceId)) return { ok: false, reason: 'busy' };
      queued++;
      checking.add(deviceId);
      const startedMs = Date.now();
      const outcome = await slowCheck(() => registry.verify(deviceId, secret)).finally(() => {
        queued--;
        checking.delete(deviceId);
      });
      // Remembered only when nothing changed since the lookup. The old secret can have passed
      // only if the overlap was still open when the check started.
      const overlapEndMs = record.previousSecretValidUntilMs ?? 0;
      if (outcome.ok && outcome.revision === record.revision) {
        entries.delete(deviceId);
        entries.set(deviceId, {
          digest,
          revision: outcome.revision,
          identity: outcome.identity,
          trustedUntilMs: overlapEndMs > startedMs ? overlapEndMs : Number.POSITIVE_INFINITY,
        });
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      }
      return outcome;
    },
  };
}

/** Runs at most `limit` tasks at once; the rest wait in arrival order. */
function limitConcurrency(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`maxConcurrentChecks must be a positive integer, got ${limit}`);
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
