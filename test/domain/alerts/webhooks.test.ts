import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { nextAttemptDelayMs, type RetryPolicy } from '../../../src/domain/alerts/retryPolicy.js';
import { signatureHeader, verifySignature } from '../../../src/domain/alerts/webhookSignature.js';

test('the signature is the HMAC-SHA256 of "t.body", and verification checks it and the timestamp', () => {
  const body = '{"alertId":"a"}';
  const header = signatureHeader('s3cret', body, 1_700_000_000);
  const expected = createHmac('sha256', 's3cret').update(`1700000000.${body}`).digest('hex');
  assert.equal(header, `t=1700000000,v1=${expected}`);
  assert.ok(verifySignature('s3cret', body, header, 1_700_000_100));
  assert.ok(!verifySignature('s3cret', body, header, 1_700_000_301), 'too old: a replayed delivery');
  assert.ok(!verifySignature('other', body, header, 1_700_000_000));
  assert.ok(!verifySignature('s3cret', `${body} `, header, 1_700_000_000));
  assert.ok(!verifySignature('s3cret', body, 'v1=abc', 1_700_000_000));
});

test('retries wait base × 2^(n−1), capped, less up to the jitter; the last try gives a dead letter', () => {
  const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 5000, jitter: 0.2 };
  assert.deepEqual([1, 2, 3, 4].map((n) => nextAttemptDelayMs(n, policy, 0)), [1000, 2000, 4000, 5000]);
  assert.deepEqual([1, 2, 3].map((n) => nextAttemptDelayMs(n, policy, 0.999)), [800, 1600, 3201]);
  assert.equal(nextAttemptDelayMs(5, policy, 0), null);
});
