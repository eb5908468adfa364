import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthorizationCodes, s256 } from '../../src/security/authorizationCodes.js';

const verifier = 'v'.repeat(43);
const grant = { clientId: 'dash', redirectUri: 'http://h/auth/callback', codeChallenge: s256(verifier), tenantId: 'acme', scopes: ['trips:read'] };
const redemption = { clientId: 'dash', redirectUri: 'http://h/auth/callback', codeVerifier: verifier };

test('a code is redeemed once, with the verifier of its challenge, by its client and redirect URI', () => {
  const codes = new AuthorizationCodes();
  const code = codes.issue(grant)!;
  assert.match(code, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(codes.redeem(code, redemption), grant);
  assert.equal((codes.redeem(code, redemption) as { error: string }).error, 'invalid_grant', 'used codes are gone');
  for (const wrong of [{ codeVerifier: 'w'.repeat(43) }, { codeVerifier: 'short' }, { clientId: 'other' }, { redirectUri: 'http://h/elsewhere' }]) {
    const fresh = codes.issue(grant)!;
    assert.equal((codes.redeem(fresh, { ...redemption, ...wrong }) as { error: string }).error, 'invalid_grant', JSON.stringify(wrong));
    assert.equal((codes.redeem(fresh, redemption) as { error: string }).error, 'invalid_grant', 'a failed attempt uses the code up');
  }
  assert.equal(codes.pending(), 0);
});

test('codes expire after their lifetime, and pending codes are bounded', () => {
  let now = 1_000_000;
  const codes = new AuthorizationCodes({ ttlMs: 60_000, maxPending: 3, now: () => now });
  const code = codes.issue(grant)!;
  now += 59_999;
  const later = codes.issue(grant)!;
  assert.deepEqual(codes.redeem(code, redemption), grant, 'valid just before 60 s');
  now += 60_000;
  assert.deepEqual(codes.redeem(later, redemption), { error: 'invalid_grant', description: 'unknown, used or expired code' });
  codes.issue(grant);
  codes.issue(grant);
  codes.issue(grant);
  assert.equal(codes.issue(grant), null, 'a fourth pending code is refused');
  now += 60_000;
  assert.ok(codes.issue(grant), 'expired codes make room');
  assert.throws(() => codes.issue({ ...grant, codeChallenge: 'plain-challenge' }), /S256/);
});
