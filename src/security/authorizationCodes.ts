import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is always 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1: 43–128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  /** The S256 challenge the code is bound to. */
  codeChallenge: string;
  tenantId: string;
  scopes: string[];
}

export interface Redemption {
  clientId: string;
  redirectUri: string;
  codeVerifier: string;
}

/** Why a code was not redeemed: RFC 6749 §5.2 error codes, with a description for the caller. */
export interface RedemptionFailure {
  error: 'invalid_grant';
  description: string;
}

export function isS256Challenge(challenge: string): boolean {
  return S256_CHALLENGE.test(challenge);
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/**
 * One-time authorization codes of the development issuer (OAuth 2.0 authorization code grant
 * with PKCE, S256 only). Kept in this process's memory: a code is redeemed at the process that
 * issued it, so in a cluster the sign-in must reach one api process (or use a real provider).
 * A code is gone after its first redemption attempt, right or wrong, and after `ttlMs`.
 */
export class AuthorizationCodes {
  private readonly codes = new Map<string, CodeGrant & { expiresAtMs: number }>();

  constructor(private readonly options: { ttlMs?: number; maxPending?: number; now?: () => number } = {}) {}

  private get ttlMs(): number {
    return this.options.ttlMs ?? 60_000;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** A new code for the grant, or null when too many codes are pending (the caller retries later). */
  issue(grant: CodeGrant): string | null {
    if (!isS256Challenge(grant.codeChallenge)) throw new Error('code challenge must be an S256 challenge');
    const max = this.options.maxPending ?? 10_000;
    if (this.codes.size >= max) this.prune();
    if (this.codes.size >= max) return null;
    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, { ...grant, scopes: [...grant.scopes], expiresAtMs: this.now() + this.ttlMs });
    return code;
  }

  /** Redeems a code once: the grant if the client, redirect URI and verifier match, else why not. */
  redeem(code: string, request: Redemption): CodeGrant | RedemptionFailure {
    const entry = this.codes.get(code);
    if (!entry) return { error: 'invalid_grant', description: 'unknown, used or expired code' };
    this.codes.delete(code);
    if (entry.expiresAtMs <= this.now()) return { error: 'invalid_grant', description: 'unknown, used or expired code' };
    if (entry.clientId !== request.clientId) return { error: 'invalid_grant', description: 'code was issued to another client' };
    if (entry.redirectUri !== request.redirectUri) return { error: 'invalid_grant', description: 'redirect_uri differs from the authorization request' };
    if (!VERIFIER.test(request.codeVerifier) || !sameText(s256(request.codeVerifier), entry.codeChallenge)) {
      return { error: 'invalid_grant', description: 'code_verifier does not match the code challenge' };
    }
    const { expiresAtMs: _, ...grant } = entry;
    return grant;
  }

  pending(): number {
    return this.codes.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [code, entry] of this.codes) if (entry.expiresAtMs <= now) this.codes.delete(code);
  }
}

/** Constant-time comparison of two strings (false for different lengths). */
export function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
