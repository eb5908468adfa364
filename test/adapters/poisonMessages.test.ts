import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IPublishPacket } from 'mqtt';
import { isTransient, POISON_STRIKES, PoisonMessages } from '../../src/adapters/mqtt/poisonMessages.js';

const packet = (messageId: number | undefined, payload = 'p'): IPublishPacket =>
  ({ cmd: 'publish', topic: 'tripline/car-1/telemetry', payload: Buffer.from(payload), qos: messageId === undefined ? 0 : 1, dup: false, retain: false, messageId }) as IPublishPacket;

/** One more append by another message, started after everything so far. */
const otherAppended = (poison: PoisonMessages): void => poison.appended(poison.attempt());

test('a failure is a strike only when another message was appended since the previous one; poison after POISON_STRIKES', () => {
  const poison = new PoisonMessages();
  const message = packet(7);
  assert.deepEqual(poison.failed('m-0', message), { poison: false, failures: 1 });
  for (let i = 0; i < 10; i++) assert.equal(poison.failed('m-0', message).poison, false, 'nothing else got through: the bus is down');
  for (let strike = 1; strike <= POISON_STRIKES; strike++) {
    otherAppended(poison);
    assert.equal(poison.failed('m-0', message).poison, strike === POISON_STRIKES, `strike ${strike}`);
  }
});

test('an append that started before the previous failure proves nothing about the bus since', () => {
  const poison = new PoisonMessages();
  const message = packet(7);
  for (let strike = 1; strike < POISON_STRIKES; strike++) {
    poison.failed('m-0', message);
    otherAppended(poison);
  }
  const startedEarlier = poison.attempt();
  poison.failed('m-0', message); // strike POISON_STRIKES - 1
  poison.appended(startedEarlier); // its answer came after the failure, but it was sent before
  assert.equal(poison.failed('m-0', message).poison, false);
});

test('strikes belong to one message: another member, another content under a reused id, or a settled message start again', () => {
  const poison = new PoisonMessages();
  const strikeOut = (member: string, message: IPublishPacket): boolean => {
    let verdict = poison.failed(member, message);
    for (let i = 0; i < POISON_STRIKES - 1; i++) (otherAppended(poison), (verdict = poison.failed(member, message)));
    return verdict.poison;
  };
  assert.equal(strikeOut('m-0', packet(7)), false, 'one strike short');
  otherAppended(poison);
  assert.equal(poison.failed('m-1', packet(7)).failures, 1, 'same packet id on another member');
  assert.equal(poison.failed('m-0', packet(7, 'other content')).failures, 1, 'the id now names another message');
  poison.settled('m-0', packet(7, 'other content'));
  assert.equal(poison.failed('m-0', packet(7, 'other content')).failures, 1, 'settled, then failing afresh');
  assert.deepEqual(poison.failed('m-0', packet(undefined)), { poison: false, failures: 1 }, 'QoS 0 is never tracked');
});

test('a transient failure (a timeout, no responders, a lost connection) is never a strike, even while others get through', () => {
  const poison = new PoisonMessages();
  const message = packet(7);
  const timeout = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
  const wrapped = new Error('request failed', { cause: Object.assign(new Error('no responders'), { name: 'NoRespondersError' }) });
  for (let i = 0; i < 20; i++) {
    otherAppended(poison);
    assert.equal(poison.failed('m-0', message, i % 2 ? timeout : wrapped).poison, false);
  }
  assert.equal(isTransient(new Error('NATS unreachable for 5000 ms')), true);
  assert.equal(isTransient(Object.assign(new Error('message size exceeds maximum allowed'), { name: 'JetStreamApiError' })), false);
});
