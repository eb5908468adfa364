import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invocation } from '../../src/cli/invocation.js';

test('the hint names tripline as it was started: npx, on the PATH, or node and the script (the container image)', () => {
  assert.equal(invocation('/home/you/app/node_modules/.bin/tripline', '/home/you/app'), 'npx tripline');
  assert.equal(invocation('/usr/local/bin/tripline', '/tmp'), 'tripline');
  assert.equal(invocation('/app/bin/tripline.js', '/app'), 'node bin/tripline.js');
  assert.equal(invocation('/app/bin/tripline.js', '/var/lib/tripline'), 'node /app/bin/tripline.js', 'absolute rather than up and down again');
});
