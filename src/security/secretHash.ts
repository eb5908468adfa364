import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Device secrets and their slow hashes. A hash is a self-describing string,
 * `$scrypt$ln=14,r=8,p=1$<salt>$<hash>` (PHC style, base64 without padding), so the cost can be
 * raised later while hashes written at the old cost still verify.
 */

export const DEFAULT_SCRYPT_LOG2_N = 14;
const BLOCK_SIZE_R = 8;
const PARALLELISM_P = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

/** Generated secrets are 43 characters; anything far longer is not worth hashing. */
const MAX_SECRET_CHARS = 256;

/** Bounds on parameters read back from storage, so a damaged or hostile row cannot make us burn CPU or memory. */
const LIMITS = {
  log2N: { min: 10, max: 20 },
  r: { min: 1, max: 32 },
  p: { min: 1, max: 4 },
  workingSetBytes: 64 * 1024 * 1024,
  saltBytes: { min: 8, max: 64 },
  hashBytes: { min: 16, max: 64 },
} as const;

export interface ScryptParams {
  log2N: number;
  r: number;
  p: number;
}

/** 32 random bytes, base64url: the password a device presents. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Throws when hashSecret would refuse this cost, so a misconfiguration shows at startup. */
export function checkScryptLog2N(log2N: number): void {
  checkParams({ log2N, r: BLOCK_SIZE_R, p: PARALLELISM_P });
}

/** Hashes a secret at a cost of 2^log2N (r=8, p=1); takes tens of milliseconds at the default, on the libuv threadpool. */
export async function hashSecret(secret: string, log2N: number = DEFAULT_SCRYPT_LOG2_N): Promise<string> {
  const params = checkParams({ log2N, r: BLOCK_SIZE_R, p: PARALLELISM_P });
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(secret, salt, HASH_BYTES, params);
  return `$scrypt$ln=${params.log2N},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

/** True when the secret matches; the cost comes from the stored string. Throws when the stored string is malformed or its parameters out of bounds. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const { params, salt, hash } = parseHash(stored);
  if (secret.length === 0 || secret.length > MAX_SECRET_CHARS) return false;
  const candidate = await derive(secret, salt, hash.length, params);
  return timingSafeEqual(candidate, hash);
}

const HASH_FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function parseHash(stored: string): { params: ScryptParams; salt: Buffer; hash: Buffer } {
  const match = HASH_FORMAT.exec(stored);
  if (!match) throw new Error('not an scrypt hash ($scrypt$ln=..,r=..,p=..$salt$hash)');
  const [, log2N, r, p, salt, hash] = match as unknown as [string, string, string, string, string, string];
  const params = checkParams({ log2N: Number(log2N), r: Number(r), p: Number(p) });
  return {
    params,
    salt: checkLength('salt', Buffer.from(salt, 'base64'), LIMITS.saltBytes),
    hash: checkLength('hash', Buffer.from(hash, 'base64'), LIMITS.hashBytes),
  };
}

function checkParams(params: ScryptParams): ScryptParams {
  const within = (value: number, { min, max }: { min: number; max: number }) => Number.isInteger(value) && value >= min && value <= max;
  if (!within(params.log2N, LIMITS.log2N) || !within(params.r, LIMITS.r) || !within(params.p, LIMITS.p) || workingSetBytes(params) > LIMITS.workingSetBytes) {
    throw new Error(
      `scrypt parameters ln=${params.log2N},r=${params.r},p=${params.p} out of bounds (ln ${LIMITS.log2N.min}-${LIMITS.log2N.max}, ` +
        `r ${LIMITS.r.min}-${LIMITS.r.max}, p ${LIMITS.p.min}-${LIMITS.p.max}, at most ${LIMITS.workingSetBytes / 2 ** 20} MiB)`,
    );
  }
  return params;
}

function checkLength(name: string, bytes: Buffer, { min, max }: { min: number; max: number }): Buffer {
  if (bytes.length < min || bytes.length > max) throw new Error(`scrypt ${name} of ${bytes.length} bytes out of bounds (${min}-${max})`);
  return bytes;
}

/** scrypt's memory is 128·N·r bytes. */
const workingSetBytes = ({ log2N, r }: ScryptParams) => 128 * 2 ** log2N * r;

function derive(secret: string, salt: Buffer, keyBytes: number, params: ScryptParams): Promise<Buffer> {
  // maxmem must exceed the working set (Node's 32 MiB default is hit exactly at ln=15); twice it leaves room for p blocks.
  const options: ScryptOptions = { N: 2 ** params.log2N, r: params.r, p: params.p, maxmem: 2 * workingSetBytes(params) };
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyBytes, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');
