import { createHmac, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import { TENANT_ID, type Authenticator, type Scope } from '../api/auth.js';
import { DEFAULT_CLOCK_TOLERANCE_S, DEFAULT_TENANT_CLAIM, jwtAuthenticator } from './jwtAuthenticator.js';

/**
 * The built-in development issuer: used when no external OAuth provider is configured, so a fresh
 * checkout has real bearer-token security without an identity provider. `tripline token` signs with it.
 */
export const DEV_ISSUER = 'urn:tripline:dev-issuer';
export const DEV_AUDIENCE = 'tripline-api';
export const DEV_ISSUER_FILE = 'dev-issuer.json';
const ALGORITHM = 'ES256';

export interface DevIssuerKey {
  kid: string;
  privateKey: CryptoKey;
  /** The public half, with `kid`, `alg` and `use`, as published in the key set. */
  publicJwk: JWK;
  /**
   * The password of the dashboard's development sign-in page (`/oauth/authorize`), derived from
   * the private key: whoever can read the key can sign tokens anyway, and every process sharing
   * the data folder agrees on it. It keeps the page from handing tokens to anyone who can reach the port.
   */
  signInPassword: string;
}

export interface DevTokenRequest {
  tenantId: string;
  scopes: readonly Scope[];
  subject?: string;
  ttlS: number;
  audience?: string;
}

interface StoredKey {
  kid: string;
  privateJwk: JWK;
}

/**
 * The key in `<dataDir>/dev-issuer.json`, created on first use (mode 0600: it is a signing secret).
 * Two processes starting at once agree on one key: each writes a complete temp file and `link`s it
 * into place, which fails if the file already exists, and everyone then reads whatever won.
 */
export async function loadOrCreateDevIssuerKey(dataDir: string): Promise<DevIssuerKey> {
  const path = join(dataDir, DEV_ISSUER_FILE);
  const existing = await readStoredKey(path);
  if (existing) return keyFrom(existing);
  await mkdir(dataDir, { recursive: true });
  await createExclusively(path, `${JSON.stringify(await newStoredKey())}\n`);
  const stored = await readStoredKey(path);
  if (!stored) throw new Error(`${path} vanished right after it was written`);
  return keyFrom(stored);
}

export async function signDevToken(key: DevIssuerKey, request: DevTokenRequest): Promise<string> {
  if (!TENANT_ID.test(request.tenantId)) throw new Error('tenant id must be 1-64 letters, digits, _ or -');
  if (!(Number.isInteger(request.ttlS) && request.ttlS > 0)) throw new Error('ttlS must be a positive integer');
  const nowS = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ [DEFAULT_TENANT_CLAIM]: request.tenantId, scope: request.scopes.join(' ') })
    .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setAudience(request.audience ?? DEV_AUDIENCE)
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + request.ttlS);
  if (request.subject !== undefined) jwt.setSubject(request.subject);
  return jwt.sign(key.privateKey);
}

/** What `GET /oauth/jwks.json` serves, so other services can verify development tokens too. */
export function devIssuerJwks(key: DevIssuerKey): JSONWebKeySet {
  return { keys: [key.publicJwk] };
}

/** Accepts only tokens this data folder's development key signed. */
export function createDevAuthenticator(key: DevIssuerKey, options: { audience?: string; clockToleranceS?: number } = {}): Authenticator {
  return jwtAuthenticator(createLocalJWKSet(devIssuerJwks(key)), {
    issuer: DEV_ISSUER,
    audience: options.audience ?? DEV_AUDIENCE,
    algorithms: [ALGORITHM],
    tenantClaim: DEFAULT_TENANT_CLAIM,
    clockToleranceS: options.clockToleranceS ?? DEFAULT_CLOCK_TOLERANCE_S,
  });
}

async function newStoredKey(): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  return { kid: await calculateJwkThumbprint(privateJwk), privateJwk };
}

async function keyFrom(stored: StoredKey): Promise<DevIssuerKey> {
  const { kty, crv, x, y } = stored.privateJwk;
  return {
    kid: stored.kid,
    privateKey: (await importJWK(stored.privateJwk, ALGORITHM)) as CryptoKey,
    publicJwk: { kty, crv, x, y, kid: stored.kid, alg: ALGORITHM, use: 'sig' },
    signInPassword: signInPasswordOf(stored.privateJwk.d!),
  };
}

/** 80 bits as five groups of four hex digits: easy to copy from a terminal, impossible to guess. */
function signInPasswordOf(d: string): string {
  const hex = createHmac('sha256', Buffer.from(d, 'base64url')).update('tripline dashboard sign-in v1').digest('hex').slice(0, 20);
  return hex.match(/.{4}/g)!.join('-');
}

async function readStoredKey(path: string): Promise<StoredKey | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const stored = parseJson(text) as Partial<StoredKey> | null;
  const jwk = stored?.privateJwk;
  if (typeof stored?.kid !== 'string' || jwk?.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string') {
    throw new Error(`${path} is not a development issuer key; delete it to create a new one (tokens it signed stop working)`);
  }
  return { kid: stored.kid, privateJwk: jwk };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Writes `text` to `path` only if nothing is there yet; never leaves a partial file at `path`. */
async function createExclusively(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temp);
  }
}
