import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/runtime/config.js';

const file = (json: unknown): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'tripline-config-')), 'pipeline.json');
  writeFileSync(path, JSON.stringify(json));
  return path;
};

test('environment variables configure the platform; a bad one is named', () => {
  const config = loadConfig({}, { TRIPLINE_MQTT_PORT: '1999', TRIPLINE_TRIP_GAP_S: '90' });
  assert.equal(config.mqttPort, 1999);
  assert.equal(config.pipeline.trip.tripGapS, 90);
  assert.throws(() => loadConfig({}, { TRIPLINE_HTTP_PORT: 'eighty' }), /TRIPLINE_HTTP_PORT="eighty"/);
});

test('a pipeline config file overrides only the thresholds it names, and rejects unknown ones', () => {
  const config = loadConfig({}, { TRIPLINE_PIPELINE_CONFIG: file({ cleaning: { maxAccuracyM: 50 }, scoring: { rolling: { windowDays: 90 } } }) });
  assert.equal(config.pipeline.cleaning.maxAccuracyM, 50);
  assert.equal(config.pipeline.cleaning.maxImpliedSpeedMps, 90, 'untouched settings keep their defaults');
  assert.equal(config.pipeline.scoring.rolling.windowDays, 90);
  assert.throws(() => loadConfig({}, { TRIPLINE_PIPELINE_CONFIG: file({ cleaning: { maxAccuracy: 50 } }) }), /cleaning\.maxAccuracy: no such setting/);
  assert.throws(() => loadConfig({}, { TRIPLINE_PIPELINE_CONFIG: file({ trip: { tripGapS: '90' } }) }), /trip\.tripGapS: expected a number/);
});

test('with the NATS bus (cluster mode), points wait for missing seqs by default; a pipeline file may change that', () => {
  assert.equal(loadConfig({}, {}).pipeline.cleaning.seqGapWaitS, 0, 'embedded: one ordered ingest, no wait');
  const cluster = { TRIPLINE_NATS_URL: 'nats://127.0.0.1:4222' };
  assert.equal(loadConfig({}, cluster).pipeline.cleaning.seqGapWaitS, 30);
  assert.equal(loadConfig({}, { ...cluster, TRIPLINE_PIPELINE_CONFIG: file({ cleaning: { seqGapWaitS: 0 } }) }).pipeline.cleaning.seqGapWaitS, 0);
});
