import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that signs a webhook delivery: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "${t}.${body}">`. */
export const SIGNATURE_HEADER = 'tripline-signature';

export function signatureHeader(secret: string, body: string, nowS: number): string {
  return `t=${nowS},v1=${hmacHex(secret, `${nowS}.${body}`)}`;
}

/**
 * What a receiver does (documented in the README): recompute the HMAC over the timestamp and the raw
 * body, compare in constant time, and refuse a timestamp further than `toleranceS` from its clock
 * (a captured delivery cannot be replayed later).
 */
export function verifySignature(secret: string, body: string, header: string, nowS: number, toleranceS = 300): boolean {
  const parts = new Map(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1');
  if (!Number.isInteger(t) || !v1 || Math.abs(nowS - t) > toleranceS) return false;
  const expected = Buffer.from(hmacHex(secret, `${t}.${body}`), 'hex');
  const given = Buffer.from(v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function hmacHex(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}
